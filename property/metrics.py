"""What /metrics reads from the database when scraped (registered in PropertyConfig.ready(): backend.metrics
registers no app's collector itself): the tasks waiting for a worker and the oldest one's age, the images by
variants status."""

from __future__ import annotations

from django.db.models import Count
from django.utils import timezone
from prometheus_client.core import GaugeMetricFamily

from .models import PropertyImage, VariantsStatus
from .tasks import variants_queue


class StateCollector:
    def collect(self):
        waiting = variants_queue().waiting()
        yield GaugeMetricFamily("alca_tasks_waiting", "Tasks a worker could start now.", value=waiting.count)
        enqueued_at = waiting.oldest_enqueued_at
        age = (timezone.now() - enqueued_at).total_seconds() if enqueued_at else 0
        yield GaugeMetricFamily(
            "alca_tasks_oldest_waiting_seconds", "How long the oldest waiting task has waited (0: none).", value=age
        )
        images = GaugeMetricFamily("alca_images", "Property images by variants status.", labels=["variants_status"])
        counts = dict(PropertyImage.objects.values_list("variants_status").annotate(Count("pk")).order_by())
        for status in VariantsStatus.values:
            images.add_metric([status], counts.get(status, 0))
        yield images
