"""The Django environment of the in-process benchmarks (bench/sections.py sets it up): a throw-away
SQLite database and the bench's own SeaweedFS."""

from __future__ import annotations

import os
import secrets
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
