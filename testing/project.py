"""Where the project is, its management commands run as a user would, a client holding a user's token, and what
/metrics shows."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from prometheus_client.parser import text_string_to_metric_families
from rest_framework.test import APIClient
from rest_framework_simplejwt.tokens import RefreshToken

BASE_DIR = Path(__file__).resolve().parent.parent


def manage_command(*args: str, **environment: str) -> subprocess.CompletedProcess:
    """`manage.py` in a process of its own, as a user runs it: this environment without the project's settings
    (DJANGO_*, DATABASE_URL, AWS_*, S3_*), a throwaway secret key, and `environment` on top."""
    clean = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("DJANGO_", "DATABASE_URL", "AWS_", "S3_"))
    }
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR,
        env={**clean, "DJANGO_SECRET_KEY": "k" * 60, **environment},
        capture_output=True,
        text=True,
        timeout=120,
    )


def jwt_client(user) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {RefreshToken.for_user(user).access_token}")
    return client


def metrics_scrape(client) -> dict[tuple[str, tuple], float]:
    """Every sample of /metrics read from loopback: (name, sorted labels) -> value."""
    response = client.get("/metrics", REMOTE_ADDR="127.0.0.1")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/plain; version=0.0.4")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }
