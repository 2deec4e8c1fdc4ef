"""`manage.py housekeeping`: what runs every minute beside the service (`make run` runs it; in production a
scheduler)."""

from django.conf import settings
from django.core.management import call_command
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends
from django_tasks_db import DatabaseBackend

from property.management.base import ServiceCommand


class Command(ServiceCommand):
    help = (
        "Enqueue again the variants of images whose task was lost (enqueue_pending_variants) and, on the database "
        "queue, forget finished task results older than TASK_RESULTS_MAX_AGE_DAYS (prune_db_task_results); RQ "
        "forgets a finished job's result by itself."
    )

    def handle(self, *args, **options) -> None:
        call_command("enqueue_pending_variants", stdout=self.stdout, stderr=self.stderr)
        if isinstance(task_backends[DEFAULT_TASK_BACKEND_ALIAS], DatabaseBackend):
            days = settings.TASK_RESULTS_MAX_AGE_DAYS
            call_command("prune_db_task_results", "--min-age-days", str(days), verbosity=0)
            self.stdout.write(f"Forgot the task results finished over {days} days ago.")
