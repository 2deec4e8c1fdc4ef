"""backend/task_queues.py: what each backend's queue holds, asked one way, on the real database queue and RQ."""

from __future__ import annotations

import pytest
from django.utils import timezone
from django_tasks import task_backends

from backend.task_queues import TaskQueue, Waiting, enqueue_after, task_queue
from property.tasks import delete_objects

pytestmark = pytest.mark.django_db(transaction=True)  # as a worker sees the queue: committed


def test_waiting_is_what_a_worker_could_start_now_not_what_is_put_off(queue):
    before = timezone.now()
    tasks = task_queue(delete_objects.get_backend())
    assert (tasks.waiting_count(), tasks.waiting()) == (0, Waiting(0, None))
    delete_objects.enqueue(["gone/1.jpg"])
    delete_objects.enqueue(["gone/2.jpg"])
    enqueue_after(delete_objects, 600, ["gone/3.jpg"])  # in ten minutes
    waiting = tasks.waiting()
    assert tasks.waiting_count() == waiting.count == 2
    assert before <= waiting.oldest_enqueued_at <= timezone.now()  # aware on both, RQ's UTC made so

    queue.run_worker()

    assert (tasks.waiting_count(), tasks.waiting()) == (0, Waiting(0, None))


def test_a_task_without_delay_is_enqueued_at_once(queue):
    enqueue_after(delete_objects, 0, ["gone/1.jpg"])  # RQ would schedule any run time, even now
    assert task_queue(delete_objects.get_backend()).waiting_count() == 1


def test_the_immediate_backend_holds_nothing(settings):
    settings.TASKS = {"default": {"BACKEND": "django_tasks.backends.immediate.ImmediateBackend"}}
    tasks = task_queue(task_backends["default"])
    assert type(tasks) is TaskQueue
    assert (tasks.waiting_count(), tasks.waiting(), tasks.ended_forget(days=1)) == (
        0,
        Waiting(0, None),
        "Nothing kept of ended tasks.",
    )
