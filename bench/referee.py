"""The speed a client sees, as the issues' goals are judged: `../shared/referee/` (the guide-faithful build served as
its users deploy it, and its client `compare.py`) against what `make run` serves.

The project under backend.server (granian) and its access log, the background worker beside it, on SQLite
(what `make run` starts) and, when it answers on 127.0.0.1:5432, on PostgreSQL; the reference started by the
referee's run_baseline.sh. compare.py runs RUNS times per database; each run prints the project's speed over the
reference's for the 50-photo list, `secure_url` and a bulk upload of 10 x 2 MB. Then the same list with
If-None-Match (conditional_gets). `python -m bench.referee`; prints JSON. Without ../shared/referee/ it says so and
measures nothing.
"""

from __future__ import annotations

import http.client
import json
import os
import re
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench.project import Served, database_url, manage, server_environment
from bench.report import verdict
from bench.sections import databases_chosen, run_in_own_process
from localdev.run import api_server_command
from localdev.s3server import LocalS3Server

BASE_DIR = Path(__file__).resolve().parent.parent
REFEREE = BASE_DIR.parent / "shared" / "referee"
REFERENCE = ("baseline", "http://127.0.0.1:18001", "bench", "bench-pass-123")
BUCKET = "alca-referee"
RUNS = 3
REPEATS = 30
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


def every_variant_made(served: Served) -> None:
    """Until the worker is done with the variants of every upload of compare.py's runs (a house each): each variant
    it makes, in any house, changes the photos' version and so the list's ETag."""
    photos = "/api/property-images/?paging=cursor&page_size=100"
    while photos:
        served.wait_for_variants(photos.removeprefix(served.base_url))
        photos = served.get(photos.removeprefix(served.base_url)).json()["next"]


def conditional_gets(served: Served) -> dict[str, float]:
    """p50 of the 50-photo list compare.py made: answered again (kept), answered 304 to If-None-Match, and built
    (the first GET after a caption changed), over one keep-alive connection."""
    connection = http.client.HTTPConnection("127.0.0.1", served.port, timeout=60)
    headers = {"Authorization": f"Bearer {served.seed['token']}"}

    def get(path: str, **more: str) -> tuple[float, http.client.HTTPResponse, bytes]:
        started = time.perf_counter()
        connection.request("GET", path, headers={**headers, **more})
        response = connection.getresponse()
        body = response.read()
        return (time.perf_counter() - started) * 1000, response, body

    _, _, body = get("/api/property-images/?page_size=1")
    image = json.loads(body)["results"][0]
    path = f"/api/property-images/?content_type=house_for_sale&object_id={image['object_id']}&page_size=100"
    every_variant_made(served)
    kept, not_modified, built = [], [], []
    for n in range(REPEATS):
        connection.request(
            "PATCH", f"/api/property-images/{image['id']}/", body=json.dumps({"caption": f"caption {n}"}),
            headers={**headers, "Content-Type": "application/json"},
        )  # fmt: skip
        connection.getresponse().read()
        elapsed, response, _ = get(path)
        built.append(elapsed)
        etag = response.getheader("ETag")
        if etag is None:
            raise RuntimeError("the list answered without an ETag")
        kept.append(get(path)[0])
        elapsed, response, _ = get(path, **{"If-None-Match": etag})
        if response.status != 304:
            raise RuntimeError(f"If-None-Match answered {response.status}")
        not_modified.append(elapsed)
    connection.close()
    return {
        "built_ms": statistics.median(built),
        "kept_ms": statistics.median(kept),
        "not_modified_ms": statistics.median(not_modified),
    }


def bench_database(database: str, s3: dict[str, str], workdir: Path) -> dict:
    environment = {**os.environ, **s3, "DATABASE_URL": database_url(database, workdir, f"alca_referee_{database}")}
    manage(environment, "migrate", "--noinput")
    token = manage(environment, "shell", "-c", USER).strip().splitlines()[-1]
    served = Served(
        f"project_{database}", api_server_command("PORT", dev=False), environment, {"token": token}, worker=True,
        access_log=True,
    )  # fmt: skip
    try:
        runs = [compare(served.base_url) for _ in range(RUNS)]
        return {"runs": runs, "conditional": conditional_gets(served)}
    finally:
        served.stop()


OWN_PROCESS = True


def measure(args: list[str]) -> dict:
    """compare.py's runs and the conditional GETs on each database chosen (args); skipped without a referee."""
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
                s3 = server_environment(server, BUCKET)
                return {database: bench_database(database, s3, Path(workdir)) for database in databases_chosen(args)}
            finally:
                server.stop()
    finally:
        subprocess.run([str(REFEREE / "stop_baseline.sh")], check=False, capture_output=True, timeout=120)


def section(referee: dict | None) -> str:
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
    for database, measured in referee.items():
        runs = measured["runs"]
        cells = []
        for measure, goal in zip(("list", "secure_url", "upload"), GOALS[database], strict=True):
            values = [run[measure] for run in runs]
            low, high = min(values), max(values)
            cells.append(f"{low:.2f}-{high:.2f}x (goal ≥ {goal:g}x: {verdict(low >= goal)})")
        lines.append(f"| {database} | " + " | ".join(cells) + " |")
    lines += [
        "",
        f"The list compare.py made (80 photos after its rounds) with `If-None-Match` ({REPEATS} times, p50): answered "
        "built (the first GET after a caption changed), answered again (kept), and 304:",
        "",
        "| database | built | kept | 304 | 304 / built (goal < 0.33) |",
        "|---|---|---|---|---|",
    ]
    for database, measured in referee.items():
        figures = measured["conditional"]
        share = figures["not_modified_ms"] / figures["built_ms"]
        lines.append(
            f"| {database} | {figures['built_ms']:.2f} ms | {figures['kept_ms']:.2f} ms | "
            f"{figures['not_modified_ms']:.2f} ms | {share:.2f} {verdict(share < 1 / 3)} |"
        )
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    run_in_own_process(measure, section)
