"""property/metrics.py: what /metrics reads from the database when scraped, the queue and the images."""

from datetime import timedelta

import pytest
from django.utils import timezone
from django_tasks_db.models import DBTaskResult

from property.services.uploads import property_images_store
from property.tests.factories import HouseForSaleFactory
from testing import jpeg_upload, metrics_scrape

pytestmark = pytest.mark.django_db


def test_metrics_show_the_queue_and_the_images_by_variants_status(
    client, owner, bucket_keys, django_capture_on_commit_callbacks
):
    before = metrics_scrape(client)
    assert before[("alca_tasks_oldest_waiting_seconds", ())] == 0  # none waiting
    with django_capture_on_commit_callbacks(execute=True):  # their variants tasks are enqueued
        property_images_store(house=HouseForSaleFactory(owner=owner), files=[jpeg_upload(), jpeg_upload()])
    after = metrics_scrape(client)
    assert after[("alca_tasks_waiting", ())] == 2  # their variants tasks, no worker running
    # The oldest's age: enqueued (as the database says) 90 s and 30 s ago.
    for task, seconds_ago in zip(DBTaskResult.objects.order_by("enqueued_at"), (90, 30), strict=True):
        DBTaskResult.objects.filter(pk=task.pk).update(enqueued_at=timezone.now() - timedelta(seconds=seconds_ago))
    assert 90 <= metrics_scrape(client)[("alca_tasks_oldest_waiting_seconds", ())] < 100
    assert after[("alca_images", (("variants_status", "pending"),))] == 2
    assert after[("alca_images", (("variants_status", "ready"),))] == 0
