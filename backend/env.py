"""Settings that take more than a line to read from the environment: S3's time budget as botocore's timeouts and
tries, and private keys given inline or as a file."""

from pathlib import Path

import environ
from django.core.exceptions import ImproperlyConfigured


def pem_setting(env: environ.Env, name: str) -> str | None:
    """A private key from `name` itself (PEM) or from the file `{name}_FILE` names; None without either."""
    pem = env.str(name, default="", multiline=True)
    path = env.str(f"{name}_FILE", default="")
    if pem or not path:
        return pem or None
    try:
        return Path(path).read_text()
    except OSError as error:
        raise ImproperlyConfigured(f"{name}_FILE: cannot read {path} ({error.strerror})") from None


def s3_budget_timeouts(budget: float, *, connect_timeout: float, max_attempts: int) -> dict:
    """botocore Config options under which every S3 call ends within `budget` seconds."""
    backoff = 2 ** (max_attempts - 1) - 1
    read_timeout = (budget - backoff) / max_attempts - connect_timeout
    if max_attempts < 1 or connect_timeout <= 0 or read_timeout < 0.5:
        raise ImproperlyConfigured(
            "S3_REQUEST_BUDGET leaves each of AWS_S3_MAX_ATTEMPTS tries too little time to wait for S3's answer "
            "after AWS_S3_CONNECT_TIMEOUT: raise the budget or lower the others"
        )
    return {
        "connect_timeout": connect_timeout,
        "read_timeout": read_timeout,
        # botocore's own `max_attempts` counts retries, not tries: `total_max_attempts` counts them all.
        "retries": {"mode": "standard", "total_max_attempts": max_attempts},
    }
