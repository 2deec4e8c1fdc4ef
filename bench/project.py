"""The project's own processes as the benchmarks start them, as `make run` does: a new database, the environment that
points them at a local SeaweedFS, `manage.py`, the API server (backend.server) with the background worker beside it."""

from __future__ import annotations

import os
import secrets
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import requests

from localdev.run import ALLOCATOR_ENVIRONMENT, worker_command
from localdev.s3server import LocalS3Server, free_port_with_grpc_twin

BASE_DIR = Path(__file__).resolve().parent.parent
POSTGRES_ADMIN_URL = "postgres://postgres@127.0.0.1:5432/postgres"


def database_url(database: str, workdir: Path, name: str = "alca_load") -> str:
    """A new, empty database: a SQLite file in `workdir`, or PostgreSQL's `name` on 127.0.0.1:5432 (dropped first)."""
    if database == "sqlite":
        return f"sqlite:///{workdir / name}.sqlite3"
    import psycopg

    with psycopg.connect(POSTGRES_ADMIN_URL.replace("postgres://", "postgresql://"), autocommit=True) as admin:
        admin.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")
        admin.execute(f"CREATE DATABASE {name}")
    return f"postgres://postgres@127.0.0.1:5432/{name}"


def server_environment(server: LocalS3Server, bucket: str) -> dict[str, str]:
    """What points a server the benchmarks start at `server`'s `bucket`, with a secret key of its own."""
    return {
        "AWS_ACCESS_KEY_ID": server.access_key,
        "AWS_SECRET_ACCESS_KEY": server.secret_key,
        "AWS_S3_ENDPOINT_URL": server.endpoint_url,
        "AWS_STORAGE_BUCKET_NAME": bucket,
        "DJANGO_SECRET_KEY": secrets.token_urlsafe(50),
        "DJANGO_LOG_LEVEL": "WARNING",
    }


def server_wait(base_url: str, seconds: float = 30) -> None:
    """Until the API server at `base_url` answers (its health, whatever the status), or `seconds` have passed."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            requests.get(f"{base_url}/health/", timeout=1)
            return
        except (requests.ConnectionError, requests.Timeout):
            time.sleep(0.2)


def each_database(databases: list[str], *, bucket: str, prefix: str, bench_database) -> dict:
    """`bench_database(database, s3 environment, workdir)` for each database, all against one SeaweedFS of theirs
    with a private `bucket`, in a temporary folder named with `prefix`."""
    with tempfile.TemporaryDirectory(prefix=prefix) as workdir:
        server = LocalS3Server(data_dir=Path(workdir) / "s3", access_key="bench-key", secret_key=secrets.token_hex(20))
        server.start()
        try:
            server.ensure_private_bucket(bucket)
            s3 = server_environment(server, bucket)
            return {database: bench_database(database, s3, Path(workdir)) for database in databases}
        finally:
            server.stop()


def manage(environment: dict[str, str], *args: str, stdin: bytes = b"") -> str:
    """What `manage.py args` prints, run with `environment` on top of this process's (the benchmarks' one way
    to run a command, seed data with a shell script fed on stdin, or count rows)."""
    command = [sys.executable, "manage.py", *args]
    env = {**os.environ, **environment}
    return subprocess.run(command, cwd=BASE_DIR, env=env, input=stdin, check=True, capture_output=True).stdout.decode()


# Seed and count through `manage.py shell -c` (manage()): a load agent with a house of 20 photos (the photo's JPEG
# base64 on stdin; prints its token and house), the images still pending, and rows against the bucket's objects.
SETUP_SCRIPT = """
from django.contrib.auth import get_user_model
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework_simplejwt.tokens import RefreshToken
from property.models import HouseForSale
from property.services.uploads import property_images_store
import base64, json, sys
photo = base64.b64decode(sys.stdin.read())
user = get_user_model().objects.create_user("load-agent", password=None)
house = HouseForSale.objects.create(title="Load house", address="1 Load St", price=1, owner=user)
property_images_store(house=house, files=[SimpleUploadedFile(f"seed{n}.jpg", photo) for n in range(20)])
print(json.dumps({"token": str(RefreshToken.for_user(user).access_token), "house": house.pk}))
"""

PENDING_SCRIPT = """
from property.models import PropertyImage
print(PropertyImage.objects.filter(variants_status="pending").count())
"""

COUNT_SCRIPT = """
from property.models import PropertyImage
from backend.s3 import S3ImageService
images = list(PropertyImage.objects.all())
expected = {key for image in images for key in image.object_keys}  # each original and its size variants
objects = {key for key, _ in S3ImageService().list_objects(prefix="properties/")}
staging = list(S3ImageService().list_objects(prefix="uploads/"))
import json
print(json.dumps({"rows": len(images), "expected_objects": len(expected), "objects": len(objects),
                  "mismatched": len(expected ^ objects), "staging_objects": len(staging)}))
"""


class Served:
    """One API under backend.server (the `make run` command line), with the background worker beside it if asked."""

    def __init__(
        self,
        name: str,
        command: list[str],
        environment: dict[str, str],
        seed: dict,
        *,
        worker: bool,
        access_log: bool = False,
    ):
        """`access_log`: the access log as `make run` writes it (to standard error), else none."""
        self.name, self.seed = name, seed
        self.port = free_port_with_grpc_twin(set())
        self.base_url = f"http://127.0.0.1:{self.port}"
        command = [part.replace("PORT", str(self.port)) for part in command]
        environment = environment if access_log else {**environment, "ACCESS_LOG": "false"}
        self.processes = [subprocess.Popen(command, cwd=BASE_DIR, env=environment, stdout=subprocess.DEVNULL)]
        if worker:
            self.processes.append(subprocess.Popen(worker_command(), cwd=BASE_DIR, env=environment))
        deadline = time.monotonic() + 60
        while True:
            try:
                self.get("/api/property-images/")
                break
            except requests.RequestException:
                if time.monotonic() > deadline:
                    raise RuntimeError(f"{name} did not start") from None
                time.sleep(0.2)

    def get(self, path: str) -> requests.Response:
        headers = {"Authorization": f"Bearer {self.seed['token']}"}
        response = requests.get(self.base_url + path, headers=headers, timeout=30)
        response.raise_for_status()
        return response

    def wait_for_variants(self, path: str, timeout: float = 300.0) -> None:
        """Until the worker has made every variant of the list's images: then it only waits for tasks, as `make run`'s
        worker does once it has caught up."""
        deadline = time.monotonic() + timeout
        while any(image.get("variants_status") == "pending" for image in self.get(path).json()["results"]):
            if time.monotonic() > deadline:
                raise RuntimeError(f"{self.name}: variants still pending after {timeout:.0f} s")
            time.sleep(0.5)

    def worker_stop(self) -> None:
        """Stop the background worker (it finishes the task it runs); the API keeps serving."""
        for worker in self.processes[1:]:
            worker.terminate()
            worker.wait(timeout=120)

    def stop(self) -> None:
        for process in self.processes:
            process.terminate()
        for process in self.processes:
            process.wait(timeout=60)


class ServerWorker:
    """The API server (backend.server, as make run starts it) with one worker process serving an API, so the worker's
    own peak memory and CPU can be read."""

    def __init__(self, environment: dict[str, str], *, app: str = "backend.wsgi", **extra_environment: str) -> None:
        self.port = free_port_with_grpc_twin(set())
        self.process = subprocess.Popen(
            [sys.executable, "-m", "backend.server", f"--port={self.port}", f"{app}:application"],
            cwd=BASE_DIR,
            # The allocator's settings of make run (and of production).
            env={
                **os.environ,
                **ALLOCATOR_ENVIRONMENT,
                **environment,
                "WEB_CONCURRENCY": "1",
                "ACCESS_LOG": "false",
                **extra_environment,
            },
            stderr=subprocess.DEVNULL,  # the server's own start and stop lines
        )
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                requests.get(f"http://127.0.0.1:{self.port}/api/", timeout=1)
                return
            except (requests.ConnectionError, requests.Timeout):  # not listening yet, or still starting
                time.sleep(0.2)
        self.stop()  # a bench that gives up must not leave it running
        raise RuntimeError("the API server did not start")

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def worker_pid(self) -> int:
        return int(Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children").read_text().split()[0])

    def peak_rss_mb(self) -> float:
        return self.memory_mb("VmHWM")

    def resident_mb(self) -> float:
        return self.memory_mb("VmRSS")

    def memory_mb(self, field: str) -> float:
        """A memory figure of the worker process from /proc (VmHWM: its peak RSS; VmRSS: its RSS now), in MB."""
        status = Path(f"/proc/{self.worker_pid}/status").read_text()
        return next(int(line.split()[1]) for line in status.splitlines() if line.startswith(f"{field}:")) / 1024

    def stop(self) -> None:
        self.process.terminate()
        self.process.wait(timeout=30)


def cpu_seconds(pid: int) -> float:
    """User and system CPU time a process has used so far."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def start_task_workers(environment: dict[str, str], count: int, *, batch: bool) -> list[subprocess.Popen]:
    command = [sys.executable, "manage.py", "db_worker", "--interval", "0.05", "--no-startup-delay"]
    return [
        subprocess.Popen([*command, *(["--batch"] if batch else [])], cwd=BASE_DIR, env={**os.environ, **environment})
        for _ in range(count)
    ]


def stop_task_workers(workers: list[subprocess.Popen]) -> None:
    for worker in workers:
        worker.terminate()
    for worker in workers:
        worker.wait(timeout=60)


HOUSE_SCRIPT = """
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken
from property.models import HouseForSale
import json, secrets
user = get_user_model().objects.create_user(f"uploader-{secrets.token_hex(4)}", password=None)
house = HouseForSale.objects.create(title="Upload house", address="2 Bench St", price=1, owner=user)
print(json.dumps({"token": str(RefreshToken.for_user(user).access_token), "house": house.pk}))
"""


def postgresql_answers() -> bool:
    return subprocess.run(["pg_isready", "-q", "-h", "127.0.0.1", "-p", "5432"], check=False).returncode == 0
