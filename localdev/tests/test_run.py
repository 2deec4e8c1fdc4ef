"""`make run` (python -m localdev.run) as a user meets it: it serves, nothing outlives it, and it starts again."""

from __future__ import annotations

import http.client
import os
import signal
import socket
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
import requests
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.parser import text_string_to_metric_families

from localdev.processes import descendants, is_running, start_child, stop_stale
from localdev.run import WORKER_NICENESS
from localdev.s3server import LocalS3Server, S3Ports, free_port_with_grpc_twin, port_is_free
from testing import image_bytes

BASE_DIR = Path(__file__).resolve().parents[2]


@pytest.fixture
def run_environment(tmp_path):
    """Environment for a `make run` of its own: free ports, its own data directory and database."""
    ports = S3Ports.free()
    api_port = free_port_with_grpc_twin({port for base in vars(ports).values() for port in (base, base + 10000)})
    environment = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("AWS_", "DATABASE_URL", "DJANGO_", "MALLOC_"))
    }
    environment.update(
        PORT=str(api_port),
        LOCAL_S3_PORT=str(ports.s3),
        LOCAL_S3_MASTER_PORT=str(ports.master),
        LOCAL_S3_VOLUME_PORT=str(ports.volume),
        LOCAL_S3_FILER_PORT=str(ports.filer),
        LOCAL_DATA_DIR=str(tmp_path / "localdata"),
        DATABASE_URL=f"sqlite:///{tmp_path / 'db.sqlite3'}",
        DJANGO_SECRET_KEY="test-" + "k" * 60,
        ACCESS_LOG="false",
        WEB_CONCURRENCY="1",
    )
    return environment


def start_run(environment: dict[str, str]) -> subprocess.Popen:
    """`python -m localdev.run` in a process group of its own, as a terminal runs `make run`."""
    return subprocess.Popen(
        [sys.executable, "-m", "localdev.run"],
        cwd=BASE_DIR,
        env=environment,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )


def process_environment(pid: int) -> tuple[str, dict[str, str]]:
    """(command line, environment) of a running process."""
    proc = Path(f"/proc/{pid}")
    command = proc.joinpath("cmdline").read_bytes().replace(b"\0", b" ").decode()
    variables = (item.partition("=") for item in proc.joinpath("environ").read_bytes().decode().split("\0") if item)
    return command, {name: value for name, _, value in variables}


def wait_until_served(environment: dict[str, str], run: subprocess.Popen, timeout: float = 120.0) -> None:
    """Wait until /health/ answers 200 (the bound is generous: a start takes ~20 s on a busy CI machine)."""
    started = time.monotonic()
    while time.monotonic() - started < timeout:
        if run.poll() is not None:
            pytest.fail(f"make run exited with {run.returncode}: {run.stdout.read()}")
        try:
            if requests.get(f"http://127.0.0.1:{environment['PORT']}/health/", timeout=2).status_code == 200:
                return
        except (requests.ConnectionError, requests.Timeout):  # not listening yet, or its first answer is slow
            pass
        time.sleep(0.2)
    pytest.fail(f"make run did not serve within {timeout:.0f} s")


def ports_in_use(environment: dict[str, str]) -> list[int]:
    names = ["PORT", "LOCAL_S3_PORT", "LOCAL_S3_MASTER_PORT", "LOCAL_S3_VOLUME_PORT", "LOCAL_S3_FILER_PORT"]
    return [int(environment[name]) for name in names if not port_is_free(int(environment[name]))]


def wait_until_released(environment: dict[str, str], timeout: float = 20.0) -> list[int]:
    deadline = time.monotonic() + timeout
    while (busy := ports_in_use(environment)) and time.monotonic() < deadline:
        time.sleep(0.2)
    return busy


OWNER_SCRIPT = """
from django.contrib.auth import get_user_model
from rest_framework_simplejwt.tokens import RefreshToken
from property.models import HouseForSale
user = get_user_model().objects.create_user("agent", password=None)
house = HouseForSale.objects.create(title="Villa", address="Calle del Mar 12", price=1, owner=user)
print(RefreshToken.for_user(user).access_token, house.pk)
"""


def an_owner(environment: dict[str, str]) -> tuple[dict[str, str], int]:
    """A user with a house in make run's database: (authorization header, house id)."""
    made = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", OWNER_SCRIPT],
        cwd=BASE_DIR,
        env=environment,
        check=True,
        capture_output=True,
        text=True,
    )
    token, house = made.stdout.split()[-2:]
    return {"Authorization": f"Bearer {token}"}, int(house)


def upload_and_wait_for_variants(environment: dict[str, str], headers: dict[str, str], house: int) -> None:
    """Upload a photo to make run's API and wait until its worker has made the photo's variants."""
    api = f"http://127.0.0.1:{environment['PORT']}"
    photo = [("images", ("photo.jpg", image_bytes("JPEG", (1200, 800)), "image/jpeg"))]
    uploaded = requests.post(
        f"{api}/api/houses-for-sale/{house}/upload_images/", headers=headers, files=photo, timeout=30
    )
    assert uploaded.status_code == 201, uploaded.text
    image_url = f"{api}/api/property-images/{uploaded.json()[0]['id']}/"
    deadline = time.monotonic() + 60
    while requests.get(image_url, headers=headers, timeout=5).json()["variants_status"] != "ready":
        assert time.monotonic() < deadline, "make run's worker did not make the variants"
        time.sleep(0.2)


def manage_beside(environment: dict[str, str], *args: str) -> subprocess.CompletedProcess:
    """A management command in a second terminal, as the README shows it: no S3 variables of its own."""
    return subprocess.run(
        [sys.executable, "manage.py", *args], cwd=BASE_DIR, env=environment, capture_output=True, text=True, timeout=120
    )


def task_workers(run: subprocess.Popen) -> list[int]:
    """make run's task workers, once they run Python (not while `nice` is still starting them)."""
    workers = []
    for pid in descendants(run.pid):
        try:
            argv = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
        except (FileNotFoundError, ProcessLookupError):  # gone since it was listed (housekeeping, a killed worker)
            continue
        if b"db_worker" in argv and not argv[0].endswith(b"nice"):
            workers.append(pid)
    return workers


def test_make_run_starts_another_worker_within_seconds_when_its_worker_dies(run_environment):
    # As the database worker exits when a query fails under it (a database restart cutting its connection).
    run = start_run(run_environment)
    try:
        wait_until_served(run_environment, run)
        (worker,) = task_workers(run)
        # Below the API server's priority (localdev.run.WORKER_NICENESS), and so is the worker started again.
        assert os.getpriority(os.PRIO_PROCESS, worker) == WORKER_NICENESS
        assert {os.getpriority(os.PRIO_PROCESS, pid) for pid in api_server_workers(run)} == {0}
        os.kill(worker, signal.SIGKILL)
        deadline = time.monotonic() + 10  # the worker check's interval, the restart spacing, and a margin
        while not (replacement := [pid for pid in task_workers(run) if pid != worker]):
            assert time.monotonic() < deadline, "make run did not start another worker"
            time.sleep(0.2)
        assert len(replacement) == 1
        assert os.getpriority(os.PRIO_PROCESS, replacement[0]) == WORKER_NICENESS
        headers, house = an_owner(run_environment)
        upload_and_wait_for_variants(run_environment, headers, house)
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)


def test_make_run_serves_with_granian_and_its_worker_and_sigterm_stops_everything(run_environment):
    api = f"http://127.0.0.1:{run_environment['PORT']}"
    front_end = "http://localhost:5173"
    run = start_run({**run_environment, "CORS_ALLOWED_ORIGINS": front_end})
    try:
        wait_until_served(run_environment, run)
        assert requests.get(f"{api}/health/", timeout=5).headers["Server"] == "granian"
        # The front end of .env may call the API, and post photos straight to the local bucket.
        preflight = {"Origin": front_end, "Access-Control-Request-Method": "POST"}
        api_preflight = requests.options(f"{api}/api/houses-for-sale/", headers=preflight, timeout=5)
        bucket_url = f"http://127.0.0.1:{run_environment['LOCAL_S3_PORT']}/alca-inmo/uploads/1/{'a' * 32}"
        bucket_preflight = requests.options(bucket_url, headers=preflight, timeout=5)
        for answer in (api_preflight, bucket_preflight):
            assert answer.status_code == 200 and answer.headers["Access-Control-Allow-Origin"] == front_end
        # So may the admin, on the API's own origin, which then reads the bucket's answer.
        admin_preflight = requests.options(bucket_url, headers={**preflight, "Origin": api}, timeout=5)
        assert admin_preflight.headers["Access-Control-Allow-Origin"] == api
        # Long filter query strings fit in a request line of up to 8190 bytes; a longer one is the 414 (with its
        # JSON body) the schema states.
        long_query = requests.get(f"{api}/api/houses-for-sale/?city={'a' * 8000}", timeout=5)
        too_long = requests.get(f"{api}/api/houses-for-sale/?city={'a' * 8200}", timeout=5)
        assert (long_query.status_code, too_long.status_code) == (401, 414) and too_long.json()["error"]
        static = requests.get(f"{api}/static/admin/css/base.css", timeout=5)
        assert static.status_code == 200 and static.headers["Content-Type"].startswith("text/css")
        headers, house = an_owner(run_environment)
        upload_and_wait_for_variants(run_environment, headers, house)
        # The API server and the worker decode photos with glibc's allocator returning freed photos to the OS.
        processes = [process_environment(pid) for pid in descendants(run.pid)]
        photo_decoders = [
            environment for command, environment in processes if "backend.server" in command or "worker" in command
        ]
        assert len(photo_decoders) >= 3  # the API server's main process, its worker, the task worker
        assert {environment.get("MALLOC_MMAP_THRESHOLD_") for environment in photo_decoders} == {"1048576"}
        swept = manage_beside(run_environment, "sweep_orphans")
        assert swept.returncode == 0, swept.stderr
        assert "Found 0 orphan objects and 0 orphan rows" in swept.stdout
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    assert wait_until_released(run_environment) == []


def test_make_runs_login_throttle_holds_across_its_api_server_processes(run_environment):
    """The token throttle's counters are shared by every API server process (a file cache under LOCAL_DATA_DIR): 50
    wrong passwords in a minute, each on a new connection so that both processes answer, meet the stated 20/min."""
    environment = {**run_environment, "WEB_CONCURRENCY": "2"}
    run = start_run(environment)
    try:
        wait_until_served(environment, run)
        an_owner(environment)
        url = f"http://127.0.0.1:{environment['PORT']}/api/token/"
        answers = [requests.post(url, json={"username": "agent", "password": "wrong"}, timeout=10) for _ in range(50)]
        workers = api_server_workers(run)
        # Which process answered each: the login requests each one counted in its own metrics samples.
        samples = Path(environment["LOCAL_DATA_DIR"]) / "metrics"
        logins_answered = {pid: requests_counted(samples, pid, view="token_obtain_pair") for pid in workers}
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    assert len(logins_answered) == 2 and all(logins_answered.values()), logins_answered  # both answered some
    assert sum(logins_answered.values()) == 50
    assert [answer.status_code for answer in answers] == [401] * 20 + [429] * 30
    assert all(int(answer.headers["Retry-After"]) > 0 and answer.json()["detail"] for answer in answers[20:])


def test_make_runs_revoked_share_link_is_refused_at_once_by_every_process(run_environment):
    """No process keeps a link: the first requests after a revocation, on new connections to both processes,
    all answer 404."""
    environment = {**run_environment, "WEB_CONCURRENCY": "2"}
    api = f"http://127.0.0.1:{environment['PORT']}"
    run = start_run(environment)
    try:
        wait_until_served(environment, run)
        headers, house = an_owner(environment)
        made = requests.post(
            f"{api}/api/houses-for-sale/{house}/share_links/", json={"expires_in": 600}, headers=headers, timeout=10
        ).json()

        def open_link(_) -> int:  # a new connection each: either process may answer
            return requests.get(f"{api}/api/shared/{made['token']}/", timeout=10).status_code

        with ThreadPoolExecutor(4) as pool:
            before = list(pool.map(open_link, range(20)))
            samples = Path(environment["LOCAL_DATA_DIR"]) / "metrics"
            answered = [requests_counted(samples, pid, view="shared") for pid in api_server_workers(run)]
            revoke = f"{api}/api/houses-for-sale/{house}/share_links/{made['id']}/"
            assert requests.delete(revoke, headers=headers, timeout=10).status_code == 204
            revoked_at = time.monotonic()
            after = list(pool.map(open_link, range(20)))
            refused_within = time.monotonic() - revoked_at
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    assert before == [200] * 20 and len(answered) == 2 and all(answered), answered  # both processes served it
    assert after == [404] * 20 and refused_within < 1


def test_make_runs_metrics_add_up_every_request_of_both_api_server_processes(run_environment):
    samples_directory = Path(run_environment["LOCAL_DATA_DIR"]) / "metrics"
    environment = {**run_environment, "WEB_CONCURRENCY": "2"}
    api = f"http://127.0.0.1:{environment['PORT']}"
    run = start_run(environment)
    try:
        wait_until_served(environment, run)
        headers, house = an_owner(environment)
        upload_and_wait_for_variants(environment, headers, house)
        with ThreadPoolExecutor(4) as pool:  # new connections, several at once: both processes answer
            statuses = list(
                pool.map(
                    lambda _: requests.get(f"{api}/api/houses-for-sale/{house}/", headers=headers, timeout=10),
                    range(40),
                )
            )
        assert [answer.status_code for answer in statuses] == [200] * 40
        writers = {path.stem.removeprefix("histogram_") for path in samples_directory.glob("histogram_*.db")}
        assert {str(pid) for pid in api_server_workers(run)} <= writers
        scraped = requests.get(f"{api}/metrics", timeout=10)
        from_elsewhere = http.client.HTTPConnection(
            "127.0.0.1", int(environment["PORT"]), source_address=("127.0.0.2", 0)
        )
        from_elsewhere.request("GET", "/metrics")
        refused = from_elsewhere.getresponse()
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)
    assert scraped.status_code == 200
    samples = {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(scraped.text)
        for sample in family.samples
    }
    detail = (("method", "GET"), ("status", "200"), ("view", "house-for-sale-detail"))
    assert samples[("alca_http_request_duration_seconds_count", detail)] == 40
    assert samples[("alca_s3_call_duration_seconds_count", (("operation", "PutObject"), ("outcome", "ok")))] >= 1
    assert samples[("alca_images", (("variants_status", "ready"),))] == 1
    assert samples[("alca_tasks_waiting", ())] == 0
    assert refused.status == 403


def requests_counted(samples_directory: Path, pid: int, *, view: str) -> int:
    """How many requests to `view` the process `pid` has counted (its samples file, backend.metrics)."""
    path = samples_directory / f"histogram_{pid}.db"
    if not path.exists():
        return 0
    return int(
        sum(
            sample.value
            for metric in MultiProcessCollector.merge([str(path)], accumulate=True)
            for sample in metric.samples
            if sample.name.endswith("_count") and sample.labels.get("view") == view
        )
    )


def api_server_workers(run: subprocess.Popen) -> list[int]:
    """The API server's worker processes under make run (its main process's children)."""
    servers = [pid for pid in descendants(run.pid) if "backend.server" in process_environment(pid)[0]]
    return [pid for pid in servers if any(pid in descendants(other) for other in servers)]


def test_with_its_s3_server_hung_make_run_answers_uploads_503_in_time_serves_reads_and_recovers(run_environment):
    api = f"http://127.0.0.1:{run_environment['PORT']}"
    run = start_run(run_environment)
    try:
        wait_until_served(run_environment, run)
        headers, house = an_owner(run_environment)
        photo = [("images", ("photo.jpg", image_bytes("JPEG", (1200, 800)), "image/jpeg"))]
        upload_url = f"{api}/api/houses-for-sale/{house}/upload_images/"
        (image,) = requests.post(upload_url, headers=headers, files=photo, timeout=30).json()
        weed = int((Path(run_environment["LOCAL_DATA_DIR"]) / "s3" / "weed.pid").read_text())
        os.kill(weed, signal.SIGSTOP)  # it accepts connections and answers nothing
        try:
            started = time.monotonic()
            hung = requests.post(upload_url, headers=headers, files=photo, timeout=120)
            assert time.monotonic() - started < 20
            assert hung.status_code == 503 and hung.headers["Retry-After"] == "10" and hung.json()["error"]
            reads = [
                f"{api}/api/property-images/?content_type=house_for_sale&object_id={house}",
                f"{api}/api/property-images/{image['id']}/",
                f"{api}/api/property-images/{image['id']}/secure_url/",
            ]
            assert [requests.get(url, headers=headers, timeout=5).status_code for url in reads] == [200, 200, 200]
        finally:
            os.kill(weed, signal.SIGCONT)
        assert requests.post(upload_url, headers=headers, files=photo, timeout=30).status_code == 201
        # Once the queue has run (a delete that S3 did not answer is tried again 10 s later), nothing is left
        # by the failed upload.
        deadline = time.monotonic() + 90
        while (
            "Found 0 orphan objects and 0 orphan rows"
            not in (swept := manage_beside(run_environment, "sweep_orphans", "--min-age", "0")).stdout
        ):
            assert time.monotonic() < deadline, swept.stdout + swept.stderr
            time.sleep(2)
    finally:
        run.send_signal(signal.SIGTERM)
        run.wait(timeout=60)


def test_after_kill_9_of_its_process_group_nothing_is_left_and_make_run_serves_again(run_environment):
    first = start_run(run_environment)
    wait_until_served(run_environment, first)
    os.killpg(first.pid, signal.SIGKILL)
    first.wait(timeout=10)
    # The API server and the S3 server ran in sessions of their own: the kernel stopped them with their parent.
    assert wait_until_released(run_environment) == []
    again = start_run(run_environment)
    try:
        wait_until_served(run_environment, again)
    finally:
        again.send_signal(signal.SIGTERM)
        again.wait(timeout=60)


def test_a_local_s3_server_left_running_on_its_data_is_stopped_and_replaced(run_environment):
    # A server on make run's data directory and ports that no make run owns any more (as one left by a
    # version of make run that did not tie its children's lives to its own).
    left = LocalS3Server(
        data_dir=Path(run_environment["LOCAL_DATA_DIR"]) / "s3",
        access_key="left-key",
        secret_key="left-secret",
        ports=S3Ports(
            s3=int(run_environment["LOCAL_S3_PORT"]),
            master=int(run_environment["LOCAL_S3_MASTER_PORT"]),
            volume=int(run_environment["LOCAL_S3_VOLUME_PORT"]),
            filer=int(run_environment["LOCAL_S3_FILER_PORT"]),
        ),
    )
    left.start()
    run = start_run(run_environment)
    try:
        wait_until_served(run_environment, run)
        assert left.process.wait(timeout=10) == -signal.SIGKILL
    finally:
        run.send_signal(signal.SIGTERM)
        output, _ = run.communicate(timeout=60)
        left.stop()
    assert "Stopped the local S3 server that an earlier `make run` left running" in output


def test_a_port_taken_by_another_program_is_refused_with_a_clear_message(run_environment):
    with socket.socket() as other_program:
        other_program.bind(("127.0.0.1", int(run_environment["LOCAL_S3_PORT"])))
        other_program.listen()
        run = start_run(run_environment)
        output, _ = run.communicate(timeout=60)
    assert run.returncode != 0
    assert f"Ports [{run_environment['LOCAL_S3_PORT']}] on 127.0.0.1 are in use" in output


def test_a_child_dies_with_its_parent_even_on_sigkill(tmp_path):
    pid_file = tmp_path / "child.pid"
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import sys, time; from localdev.processes import start_child\n"
            "child = start_child(['sleep', '300'])\n"
            f"open({str(pid_file)!r}, 'w').write(str(child.pid))\n"
            "time.sleep(300)",
        ],
        cwd=BASE_DIR,
    )
    deadline = time.monotonic() + 10
    while not pid_file.exists() or not pid_file.read_text():
        assert time.monotonic() < deadline
        time.sleep(0.05)
    child_pid = int(pid_file.read_text())
    assert is_running(child_pid)
    parent.kill()
    parent.wait()
    deadline = time.monotonic() + 5
    while is_running(child_pid) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not is_running(child_pid)


def test_stop_stale_kills_only_a_process_whose_command_line_holds_the_marker(tmp_path):
    pid_file = tmp_path / "server.pid"
    unrelated = start_child(["sleep", "300"])
    marked = start_child(["sleep", "301"])
    try:
        pid_file.write_text(str(unrelated.pid))
        assert not stop_stale(pid_file, marker="301")
        assert unrelated.poll() is None
        pid_file.write_text(str(marked.pid))
        assert stop_stale(pid_file, marker="301")
        assert marked.wait(timeout=5) == -signal.SIGKILL
    finally:
        unrelated.kill()
        marked.kill()
        unrelated.wait()
        marked.wait()
