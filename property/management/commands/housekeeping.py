"""`manage.py housekeeping`: what runs every minute beside the service (`make run` runs it; in production a
scheduler)."""

from datetime import timedelta

from django.conf import settings
from django.core.management import call_command
from django.utils import timezone
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db import DatabaseBackend
from django_tasks_rq import RQBackend

from property.management.base import ServiceCommand
from property.services.changes import changes_prune
from property.tasks import rq_failed_jobs_forget


class Command(ServiceCommand):
    help = (
        "Enqueue again the variants of images whose task was lost (enqueue_pending_variants), forget the changes the "
        "feed keeps over CHANGES_RETENTION_DAYS, and forget what the queue keeps of tasks that ended over "
        "TASK_RESULTS_MAX_AGE_DAYS ago: on the database queue every finished task's result (prune_db_task_results), "
        "on RQ the failed jobs (RQ forgets a finished job's result by itself)."
    )

    def handle(self, *args, **options) -> None:
        call_command("enqueue_pending_variants", stdout=self.stdout, stderr=self.stderr)
        forgotten = changes_prune()
        self.stdout.write(f"Forgot {forgotten} changes made over {settings.CHANGES_RETENTION_DAYS} days ago.")
        backend = task_backends[DEFAULT_TASK_BACKEND_ALIAS]
        days = settings.TASK_RESULTS_MAX_AGE_DAYS
        if isinstance(backend, DatabaseBackend):
            call_command("prune_db_task_results", "--min-age-days", str(days), verbosity=0)
            self.stdout.write(f"Forgot the task results finished over {days} days ago.")
        elif isinstance(backend, RQBackend):
            forgotten = rq_failed_jobs_forget(backend, timezone.now() - timedelta(days=days))
            self.stdout.write(f"Forgot {forgotten} failed jobs that ended over {days} days ago.")
