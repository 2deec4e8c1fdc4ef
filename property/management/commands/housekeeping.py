"""`manage.py housekeeping`: what runs every minute beside the service (`make run` runs it; in production a
scheduler)."""

from django.conf import settings
from django.core.management import call_command
from django_tasks import DEFAULT_TASK_BACKEND_ALIAS, task_backends

from backend.task_queues import task_queue
from property.management.base import ServiceCommand
from property.services.changes import changes_prune


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
        queue = task_queue(task_backends[DEFAULT_TASK_BACKEND_ALIAS])
        self.stdout.write(queue.ended_forget(days=settings.TASK_RESULTS_MAX_AGE_DAYS))
