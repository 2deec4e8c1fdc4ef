"""What a task queue holds, and a task put off until later, asked the same way of each backend settings.TASKS may
name: the database queue (django-tasks-db), RQ (django-tasks-rq: task_backends.py) and the immediate backend that
runs each task as it is enqueued. The app's tasks, /metrics and `manage.py housekeeping` ask here, never a
backend's own API."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import django_rq
from django.core.management import call_command
from django.db.models import Count, Min
from django.utils import timezone
from django_tasks.backends.base import BaseTaskBackend
from django_tasks.base import Task
from django_tasks_db import DatabaseBackend
from django_tasks_db.models import DBTaskResult
from django_tasks_rq import RQBackend
from rq.job import Job


@dataclass(frozen=True)
class Waiting:
    """The tasks a worker could start now, and when the one that has waited longest was enqueued (None: none)."""

    count: int
    oldest_enqueued_at: datetime | None


class TaskQueue:
    """The queue of a backend that runs each task as it is enqueued: nothing ever waits, nothing is kept."""

    def __init__(self, backend: BaseTaskBackend) -> None:
        self.backend = backend

    def waiting_count(self) -> int:
        """How many tasks a worker could start now (not those put off until later)."""
        return 0

    def waiting(self) -> Waiting:
        """waiting_count(), and the oldest waiting task's time (waiting_count() when the count is all one needs)."""
        return Waiting(0, None)

    def ended_forget(self, *, days: int) -> str:
        """Forget what the queue keeps of tasks that ended over `days` days ago; what was done, as a sentence."""
        return "Nothing kept of ended tasks."


class DatabaseTaskQueue(TaskQueue):
    """django-tasks-db's queue: the task rows that are ready (READY, and due)."""

    def ready(self):
        return DBTaskResult.objects.ready().filter(backend_name=self.backend.alias)

    def waiting_count(self) -> int:
        return self.ready().count()

    def waiting(self) -> Waiting:
        found = self.ready().aggregate(count=Count("pk"), oldest=Min("enqueued_at"))
        return Waiting(found["count"], found["oldest"])

    def ended_forget(self, *, days: int) -> str:
        call_command("prune_db_task_results", "--min-age-days", str(days), verbosity=0)
        return f"Forgot the task results finished over {days} days ago."


class RQTaskQueue(TaskQueue):
    """RQ's queues of the backend: the jobs in them (RQ keeps those put off until later in its scheduled registry)."""

    def queues(self) -> list:
        return [django_rq.get_queue(name) for name in self.backend.queues]

    def waiting_count(self) -> int:
        return sum(queue.count for queue in self.queues())

    def waiting(self) -> Waiting:
        queues = self.queues()
        firsts = [queue.fetch_job(ids[0]) for queue in queues if (ids := queue.get_job_ids(0, 1))]
        oldest = min((job.enqueued_at for job in firsts if job and job.enqueued_at), default=None)
        if oldest is not None and oldest.tzinfo is None:  # RQ's times are UTC, without a zone
            oldest = oldest.replace(tzinfo=UTC)
        return Waiting(sum(queue.count for queue in queues), oldest)

    def ended_forget(self, *, days: int) -> str:
        """The failed jobs, with their entries in the failed job registry: RQ keeps one a year (each try S3 refused
        is one), with its arguments and traceback; a finished job it forgets after 500 s by itself."""
        ended_before = timezone.now() - timedelta(days=days)
        forgotten = 0
        for queue in self.queues():
            registry = queue.failed_job_registry
            for job in Job.fetch_many(registry.get_job_ids(), connection=queue.connection):
                if job is not None and job.ended_at is not None and job.ended_at < ended_before:
                    registry.remove(job, delete_job=True)
                    forgotten += 1
        return f"Forgot {forgotten} failed jobs that ended over {days} days ago."


def task_queue(backend: BaseTaskBackend) -> TaskQueue:
    """The queue of `backend` (a task's get_backend(), or django_tasks.task_backends[alias])."""
    if isinstance(backend, DatabaseBackend):
        return DatabaseTaskQueue(backend)
    if isinstance(backend, RQBackend):
        return RQTaskQueue(backend)
    return TaskQueue(backend)


def enqueue_after(task_to_run: Task, delay: float, *args) -> None:
    """Enqueue `task_to_run(*args)` to run `delay` seconds from now; without a delay, at once (RQ would put any
    task with a run time among its scheduled jobs, which only its scheduler moves to the queue)."""
    timed = task_to_run.using(run_after=timezone.now() + timedelta(seconds=delay)) if delay else task_to_run
    timed.enqueue(*args)
