"""The speed a client sees, as the issues' goals are judged: `../shared/referee/` (the guide-faithful build served as
its users deploy it, and its client `compare.py`) against what `make run` serves.

The project under gunicorn with gunicorn.conf.py and its access log, the background worker beside it, on SQLite
(what `make run` starts) and, when it answers on 127.0.0.1:5432, on PostgreSQL; the reference started by the
referee's run_baseline.sh. compare.py runs RUNS times per database; each run prints the project's speed over the
reference's for the 50-photo list, `secure_url` and a bulk upload of 10 x 2 MB. `python -m bench.referee`; prints
JSON. Without ../shared/referee/ it says so and measures nothing.
"""

from __future__ import annotations

import json
import os
import re
import secrets
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.load import database_url, manage
from bench.report import verdict
from bench.serving import Served, postgresql_answers
from localdev.run import api_server_command
from localdev.s3server import LocalS3Server

BASE_DIR = Path(__file__).resolve().parent.parent
REFEREE = BASE_DIR.parent / "shared" / "referee"
REFERENCE = ("baseline", "http://127.0.0.1:18001", "bench", "bench-pass-123")
BUCKET = "alca-referee"
RUNS = 3
# (list, secure_url, upload) goals of issue 36, the project's speed over the reference's.
GOALS = {"sqlite": (8.0, 1.5, 0.7), "postgresql": (6.0, 1.2, 0.7)}

USER = """
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken
user = get_user_model().objects.create_user("referee", password="referee-pass-123")
print(RefreshToken.for_user(user).access_token)
"""


def compare(project_url: str) -> dict[str, float]:
    name, url, user, password = REFERENCE
    result = subprocess.run(
        [sys.executable, str(REFEREE / "compare.py"), f"{name}={url},{user},{password}",
         f"project={project_url},referee,referee-pass-123"],
        check=True, capture_output=True, text=True, timeout=1800,
    )  # fmt: skip
    ratios = re.search(r"RATIO list_rps=([\d.]+) secure_url_rps=([\d.]+) upload_speed=([\d.]+)", result.stdout)
    if ratios is None:
        raise RuntimeError(f"compare.py printed no ratio: {result.stdout[-500:]}")
    return dict(zip(("list", "secure_url", "upload"), map(float, ratios.groups()), strict=True))


def bench_database(database: str, s3: dict[str, str], workdir: Path) -> list[dict[str, float]]:
    environment = {**os.environ, **s3, "DATABASE_URL": database_url(database, workdir, f"alca_referee_{database}")}
    manage(environment, "migrate", "--noinput")
    token = manage(environment, "shell", "-c", USER).strip().splitlines()[-1]
    served = Served(
        f"project_{database}", api_server_command("PORT", dev=False), environment, {"token": token}, worker=True,
        access_log=True,
    )  # fmt: skip
    try:
        return [compare(served.base_url) for _ in range(RUNS)]
    finally:
        served.stop()


def main() -> dict:
    if not (REFEREE / "compare.py").exists():
        return {"skipped": f"no referee at {REFEREE}"}
    subprocess.run([str(REFEREE / "run_baseline.sh")], check=True, capture_output=True, timeout=900)
    try:
        with tempfile.TemporaryDirectory(prefix="alca-referee-") as workdir:
            key = secrets.token_hex(20)
            server = LocalS3Server(data_dir=Path(workdir) / "s3", access_key="ref-key", secret_key=key)
            server.start()
            try:
                server.ensure_private_bucket(BUCKET)
                s3 = {
                    "AWS_ACCESS_KEY_ID": server.access_key,
                    "AWS_SECRET_ACCESS_KEY": server.secret_key,
                    "AWS_S3_ENDPOINT_URL": server.endpoint_url,
                    "AWS_STORAGE_BUCKET_NAME": BUCKET,
                    "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
                    "DJANGO_LOG_LEVEL": "WARNING",
                }
                databases = ["sqlite", "postgresql"] if postgresql_answers() else ["sqlite"]
                return {database: bench_database(database, s3, Path(workdir)) for database in databases}
            finally:
                server.stop()
    finally:
        subprocess.run([str(REFEREE / "stop_baseline.sh")], check=False, capture_output=True, timeout=120)


def referee_section(referee: dict | None) -> str:
    if not referee:
        return ""
    if "skipped" in referee:
        return f"## Against the shared reference (`bench/referee.py`)\n\nNot measured: {referee['skipped']}.\n"
    lines = [
        "## Against the shared reference (`bench/referee.py`)",
        "",
        "`../shared/referee/compare.py` against its reference build (gunicorn's defaults) and what `make run` serves "
        f"(its worker running), {RUNS} runs each: the project's speed over the reference's, the range of the runs, "
        "and the lowest run against the goal.",
        "",
        "| database | 50-photo list | `secure_url` | bulk upload 10 x 2 MB |",
        "|---|---|---|---|",
    ]
    for database, runs in referee.items():
        cells = []
        for measure, goal in zip(("list", "secure_url", "upload"), GOALS[database], strict=True):
            values = [run[measure] for run in runs]
            low, high = min(values), max(values)
            cells.append(f"{low:.2f}-{high:.2f}x (goal ≥ {goal:g}x: {verdict(low >= goal)})")
        lines.append(f"| {database} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    result = main()
    print(referee_section(result))
    print(json.dumps(result))
