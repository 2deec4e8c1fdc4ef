"""A copy kept by following the feed of changes (issue 39) against the API as `make run` serves it.

Eight writers make random edits through the API for 60 s (create, update and delete houses of both kinds, upload,
change and delete photos, reorder a house's photos, set its main photo) while a reader takes a snapshot (the lists,
walked by cursor, after its first call's cursor) and follows GET /api/changes/ from that cursor, applying each entry
(its `data`, or a removal for a null one). When the writers have stopped and the worker has made every variant, the
reader reads to the end, and its copy is compared with a fresh read of every house and photo, field for field: the
signed URLs aside (each answer signs its own), and a house's `main_image` and `image_count` worked out from the
copy's photos as the feed's description says. No entry may come twice.

backend.server, the background worker beside it and SeaweedFS, on SQLite (what `make run` starts) or PostgreSQL:
`python -m bench.feed_sync [sqlite] [postgresql]` (FEED_SYNC_SECONDS, FEED_SYNC_RUNS: 60 s, 3 runs unless told).
"""

from __future__ import annotations

import json
import os
import random
import secrets
import subprocess
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import requests

from bench.feed_copy import KINDS, Api, Reader, differences
from bench.photos import photo_jpeg
from bench.project import BASE_DIR, PENDING_SCRIPT, database_url, manage, server_environment, server_wait
from bench.report import verdict
from bench.sections import databases_chosen, run_in_own_process
from localdev.run import api_server_command, worker_command
from localdev.s3server import LocalS3Server, free_port_with_grpc_twin

BUCKET = "alca-feed"
WRITERS = 8
CATEGORIES = ["exterior", "kitchen", "bedroom", "floor_plan", "garden", None]
# Operation and weight.
MIX = [
    ("create_house", 8),
    ("update_house", 12),
    ("delete_house", 3),
    ("upload", 14),
    ("update_photo", 20),
    ("delete_photo", 8),
    ("reorder", 10),
    ("set_main", 10),
]
SEED = """
import json
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken
user = get_user_model().objects.create_user("feed-agent", password=None)
print(json.dumps({"token": str(RefreshToken.for_user(user).access_token)}))
"""


class Writer(threading.Thread):
    """Random edits until `deadline`; houses and photos it knows of are shared with the other writers (a 404 for
    one another writer deleted meanwhile is an answer, not an error)."""

    def __init__(self, api: Api, photo: bytes, deadline: float, houses: list, lock: threading.Lock) -> None:
        super().__init__(daemon=True)
        self.api, self.photo, self.deadline, self.houses, self.lock = api, photo, deadline, houses, lock
        self.random = random.Random(secrets.randbits(32))
        self.outcomes: Counter = Counter()
        self.errors: list[str] = []

    def expect(self, operation: str, answer: requests.Response, *codes: int) -> requests.Response | None:
        self.outcomes[f"{operation} {answer.status_code}"] += 1
        if answer.status_code == 404:
            return None  # deleted meanwhile by another writer
        if answer.status_code not in codes:
            self.errors.append(f"{operation}: HTTP {answer.status_code} {answer.text[:160]}")
            return None
        return answer

    def a_house(self) -> tuple[str, int] | None:
        with self.lock:
            return self.random.choice(self.houses) if self.houses else None

    def photos_of(self, kind: str, house_id: int) -> list[dict]:
        answer = self.api.call("GET", f"/api/{KINDS[kind][0]}/{house_id}/")
        return answer.json()["images"] if answer.status_code == 200 else []

    def run(self) -> None:
        operations, weights = zip(*MIX, strict=True)
        while time.monotonic() < self.deadline:
            operation = self.random.choices(operations, weights)[0] if self.houses else "create_house"
            target = self.a_house()
            try:
                if operation == "create_house" or target is None:
                    self.create_house()
                elif operation in ("update_house", "delete_house", "upload"):
                    getattr(self, operation)(*target)
                else:
                    self.change_a_photo(operation, *target)
            except requests.RequestException as error:
                self.errors.append(f"{operation}: {type(error).__name__}")

    def create_house(self) -> None:
        kind = self.random.choice(list(KINDS))
        path, amount = KINDS[kind]
        body = {"title": f"House {secrets.token_hex(3)}", "address": "1 Feed St", amount: "1000.00"}
        answer = self.expect("create_house", self.api.call("POST", f"/api/{path}/", json=body), 201)
        if answer is not None:
            with self.lock:
                self.houses.append((kind, answer.json()["id"]))

    def update_house(self, kind: str, house_id: int) -> None:
        path, amount = KINDS[kind]
        body = {"title": f"House {secrets.token_hex(3)}", amount: f"{self.random.randint(1, 9999)}.00"}
        self.expect("update_house", self.api.call("PATCH", f"/api/{path}/{house_id}/", json=body), 200)

    def delete_house(self, kind: str, house_id: int) -> None:
        answer = self.api.call("DELETE", f"/api/{KINDS[kind][0]}/{house_id}/")
        if self.expect("delete_house", answer, 204) is not None:
            with self.lock:
                if (kind, house_id) in self.houses:
                    self.houses.remove((kind, house_id))

    def upload(self, kind: str, house_id: int) -> None:
        files = [("images", (f"p{n}.jpg", self.photo, "image/jpeg")) for n in range(self.random.randint(1, 2))]
        answer = self.api.call("POST", f"/api/{KINDS[kind][0]}/{house_id}/upload_images/", files=files)
        self.expect("upload", answer, 201)

    def change_a_photo(self, operation: str, kind: str, house_id: int) -> None:
        photos = self.photos_of(kind, house_id)
        if not photos:
            return
        photo = self.random.choice(photos)["id"]
        if operation == "update_photo":
            body = {
                "caption": f"caption {secrets.token_hex(2)}",
                "category": self.random.choice(CATEGORIES),
                "description": f"alt {secrets.token_hex(4)}",
            }
            answer = self.api.call("PATCH", f"/api/property-images/{photo}/", json=body)
        elif operation == "delete_photo":
            answer = self.api.call("DELETE", f"/api/property-images/{photo}/")
        elif operation == "reorder":
            ids = [image["id"] for image in photos]
            self.random.shuffle(ids)
            answer = self.api.call("POST", f"/api/{KINDS[kind][0]}/{house_id}/reorder_images/", json={"ids": ids})
        else:
            answer = self.api.call("PATCH", f"/api/property-images/{photo}/set_as_main/")
        # A reorder's 400: a photo added or deleted since the writer read the house.
        self.expect(operation, answer, *{"delete_photo": (204,), "reorder": (200, 400)}.get(operation, (200,)))


@contextmanager
def served(database: str, workdir: Path) -> Iterator[tuple[dict, str, str]]:
    """SeaweedFS, a new database, a user's token, and the API server and worker as `make run` starts them: their
    environment, the server's URL and the token."""
    s3 = LocalS3Server(data_dir=workdir / "s3", access_key="feed-key", secret_key=secrets.token_hex(20))
    s3.start()
    processes: list[subprocess.Popen] = []
    try:
        s3.ensure_private_bucket(BUCKET)
        environment = {
            **os.environ,
            "DJANGO_SETTINGS_MODULE": "backend.settings",
            "DATABASE_URL": database_url(database, workdir, name="alca_feed"),
            **server_environment(s3, BUCKET),
            "DJANGO_LOG_LEVEL": "ERROR",
            "DJANGO_DEBUG": "False",
            "API_ANSWER_CACHE": "False",
        }
        manage(environment, "migrate", "--noinput")
        token = json.loads(manage(environment, "shell", "-c", SEED).strip().splitlines()[-1])["token"]
        port = free_port_with_grpc_twin(set())
        server_env = {**environment, "ACCESS_LOG": "false"}
        processes.append(subprocess.Popen(api_server_command(str(port), dev=False), cwd=BASE_DIR, env=server_env))
        processes.append(subprocess.Popen(worker_command(), cwd=BASE_DIR, env=environment))
        server_wait(f"http://127.0.0.1:{port}")
        yield environment, f"http://127.0.0.1:{port}", token
    finally:
        for process in processes:
            process.terminate()
            process.wait(timeout=60)
        s3.stop()


def edited_while_followed(base_url: str, token: str, seconds: float) -> tuple[Reader, list[Writer]]:
    """The reader started (its snapshot under way), then the writers for `seconds`."""
    reader = Reader(Api(base_url, token))
    reader.start()
    time.sleep(1)
    houses: list = []
    lock = threading.Lock()
    photo = photo_jpeg(640, 480)
    deadline = time.monotonic() + seconds
    writers = [Writer(Api(base_url, token), photo, deadline, houses, lock) for _ in range(WRITERS)]
    for writer in writers:
        writer.start()
    for writer in writers:
        writer.join(seconds + 120)
    return reader, writers


def one_run(database: str, seconds: float) -> dict:
    with tempfile.TemporaryDirectory(prefix="alca-feed-") as workdir, served(database, Path(workdir)) as running:
        environment, base_url, token = running
        reader, writers = edited_while_followed(base_url, token, seconds)
        variants_wait(environment)
        reader.stop.set()
        reader.join(300)
        found = differences(reader.copy, Api(base_url, token))
        pending = int(manage(environment, "shell", "-c", PENDING_SCRIPT).strip().splitlines()[-1])
    outcomes = sum((writer.outcomes for writer in writers), Counter())
    return {
        "database": database,
        "seconds": seconds,
        "writes": sum(count for outcome, count in outcomes.items() if not outcome.endswith(" 404")),
        "gone_meanwhile_404": sum(count for outcome, count in outcomes.items() if outcome.endswith(" 404")),
        "outcomes": dict(sorted(outcomes.items())),
        "write_errors": [error for writer in writers for error in writer.errors][:10],
        "entries_applied": reader.applied,
        "entries_twice": reader.duplicates,
        "reader_errors": reader.errors[:10],
        "rows_in_copy": len(reader.copy),
        "differences": len(found),
        "difference_samples": found[:10],
        "pending_variants_at_end": pending,
    }


def variants_wait(environment: dict, timeout: float = 300) -> None:
    """Until the worker has made every pending photo's variants (their `variants_ready` is a change too)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if int(manage(environment, "shell", "-c", PENDING_SCRIPT).strip().splitlines()[-1]) == 0:
            return
        time.sleep(1)


OWN_PROCESS = True


def measure(args: list[str]) -> dict[str, list[dict]]:
    """Runs of FEED_SYNC_SECONDS (60 unless told) on each database chosen (args), FEED_SYNC_RUNS (3) of each."""
    seconds, runs = float(os.environ.get("FEED_SYNC_SECONDS", 60)), int(os.environ.get("FEED_SYNC_RUNS", 3))
    return {database: [one_run(database, seconds) for _ in range(runs)] for database in databases_chosen(args)}


def section(synced: dict[str, list[dict]] | None) -> str:
    if not synced:
        return ""
    lines = [
        "## A copy kept by the feed of changes under eight writers (`bench/feed_sync.py`)",
        "",
        f"What `make run` serves (its API server, the worker running). {WRITERS} writers edit at random through the "
        "API "
        "(houses created, updated, deleted; photos uploaded, changed, deleted, reordered, set as main) while a reader "
        "takes a snapshot and follows `GET /api/changes/`; at the end its copy is compared with a fresh read of every "
        "house and photo, field for field (signed URLs aside; each house's `main_image` and `image_count` worked out "
        "from the copy's photos). Goal (issue 39): equal, no entry applied twice, three runs per database.",
        "",
        "| database | run | seconds | writes (answered 404: gone meanwhile) | entries applied | applied twice | rows "
        "in the copy | differences | errors |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for database, runs in synced.items():
        for number, run in enumerate(runs, 1):
            errors = len(run["write_errors"]) + len(run["reader_errors"])
            met = verdict(run["differences"] == 0 and run["entries_twice"] == 0 and errors == 0)
            lines.append(
                f"| {database} | {number} | {run['seconds']:g} | {run['writes']} ({run['gone_meanwhile_404']}) | "
                f"{run['entries_applied']} | {run['entries_twice']} | {run['rows_in_copy']} | {run['differences']} "
                f"{met} | {errors} |"
            )
    return "\n".join([*lines, ""])


if __name__ == "__main__":
    run_in_own_process(measure, section)
