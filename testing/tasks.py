"""The task queues as the tests run them: the configured backend (the database queue, or RQ on a Redis database of
the tests' own) and its real worker command, run in the test's process until the queue is empty."""

from __future__ import annotations

import signal

import django_rq
import redis
from django.core.management import call_command

REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, emptied around each test


def redis_flush() -> None:
    redis.Redis.from_url(REDIS_URL).flushdb()


def redis_answers() -> bool:
    try:
        return redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1).ping()
    except redis.RedisError:
        return False


class Queue:
    """The configured task backend, and its real worker command run here until the queue is empty."""

    def __init__(self, backend: str) -> None:
        self.backend = backend

    def run_worker(self, *, max_tasks: int | None = None) -> None:
        handlers = {number: signal.getsignal(number) for number in (signal.SIGINT, signal.SIGTERM, signal.SIGQUIT)}
        try:
            if self.backend == "database":
                limit = ["--max-tasks", str(max_tasks)] if max_tasks else []
                call_command("db_worker", "--batch", "--no-startup-delay", "--interval", "0", *limit, verbosity=0)
            else:
                limit = ["--max-jobs", str(max_tasks)] if max_tasks else []
                # SimpleWorker runs each task in this process, so it sees this test's settings and database.
                call_command(
                    "rqworker",
                    "default",
                    "--burst",
                    "--job-class",
                    "django_tasks_rq.Job",
                    "--worker-class",
                    "rq.worker.SimpleWorker",
                    *limit,
                    verbosity=0,
                )
        finally:
            for number, handler in handlers.items():  # the workers take over Ctrl-C: give it back to pytest
                signal.signal(number, handler)

    def lose_every_message(self) -> None:
        """What a queue that lost its messages looks like, or a worker killed with the task it had taken."""
        if self.backend == "database":
            from django_tasks_db.models import DBTaskResult

            DBTaskResult.objects.all().delete()
        else:
            django_rq.get_queue("default").empty()
