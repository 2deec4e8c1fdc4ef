"""The base of this app's management commands: S3, the database or the task queue failing ends a command with one
clear line on stderr and exit status 1, not a traceback."""

from botocore.exceptions import BotoCoreError, ClientError
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError
from redis.exceptions import RedisError

from backend.s3 import S3StorageError

UNAVAILABLE = (
    (S3StorageError, "S3"),
    (BotoCoreError, "S3"),
    (ClientError, "S3"),
    (DatabaseError, "The database"),
    (RedisError, "The task queue (Redis)"),
)


class ServiceCommand(BaseCommand):
    """A command that talks to S3, the database or the task queue; Django prints a CommandError as one line."""

    def execute(self, *args, **options):
        try:
            return super().execute(*args, **options)
        except tuple(error_class for error_class, _ in UNAVAILABLE) as error:
            service = next(name for error_class, name in UNAVAILABLE if isinstance(error, error_class))
            cause = error.__cause__ if isinstance(error, S3StorageError) and error.__cause__ else error
            reason = " ".join(str(error).split())  # some drivers' messages run over several lines
            raise CommandError(f"{service} is unavailable: {reason} ({type(cause).__name__})") from error
