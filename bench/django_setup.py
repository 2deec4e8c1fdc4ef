"""The Django environment of the in-process benchmarks (bench/run.py, and a section run on its own): a throw-away
SQLite database and the bench's own SeaweedFS."""

from __future__ import annotations

import os
import secrets
import tempfile
from collections.abc import Callable
from pathlib import Path

from localdev.s3server import LocalS3Server

BUCKET = "alca-bench"


def configure_django(server: LocalS3Server, workdir: Path) -> dict[str, str]:
    """Environment for this process and the API server processes it starts."""
    environment = {
        "DJANGO_SETTINGS_MODULE": "backend.settings",
        "DATABASE_URL": f"sqlite:///{workdir / 'bench.sqlite3'}",
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_S3_ENDPOINT_URL": server.endpoint_url,
        "AWS_STORAGE_BUCKET_NAME": BUCKET,
        "DJANGO_LOG_LEVEL": "WARNING",
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_DEBUG": "False",
    }
    os.environ.update(environment)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", verbosity=0)
    return environment


def run_alone(measure: Callable[[dict[str, str], LocalS3Server, Path], object], name: str) -> object:
    """A section's `measure(environment, S3 server, work directory)` run on its own (`python -m bench.<name>`): its
    own SeaweedFS and database in a temporary directory, removed afterwards."""
    with tempfile.TemporaryDirectory(prefix=f"alca-{name}-") as directory:
        workdir = Path(directory)
        s3 = LocalS3Server(data_dir=workdir / "s3", access_key="bench-key", secret_key=secrets.token_hex(20))
        s3.start()
        try:
            s3.ensure_private_bucket(BUCKET)
            return measure(configure_django(s3, workdir), s3, workdir)
        finally:
            s3.stop()
