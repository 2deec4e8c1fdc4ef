"""`make run`: migrate, start the local S3 server unless an external S3 is configured, serve the API.

Ctrl-C stops the API server and the S3 server this started. Data stays in db.sqlite3 and .localdata/.
"""

from __future__ import annotations

import json
import os
import secrets
import signal
import subprocess
import sys
from pathlib import Path

import environ

from .s3server import LocalS3Server, S3Ports, port_is_free

BASE_DIR = Path(__file__).resolve().parent.parent
LOCAL_S3_DIR = BASE_DIR / ".localdata" / "s3"


def local_credentials() -> tuple[str, str]:
    """The local S3 server's key pair, made once and kept beside its data."""
    path = LOCAL_S3_DIR / "credentials.json"
    if not path.exists():
        LOCAL_S3_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps({"access_key": "local" + secrets.token_hex(8), "secret_key": secrets.token_hex(20)}))
        path.chmod(0o600)
    credentials = json.loads(path.read_text())
    return credentials["access_key"], credentials["secret_key"]


def start_local_s3() -> LocalS3Server:
    ports = S3Ports(
        s3=int(os.environ.get("LOCAL_S3_PORT", 8333)),
        master=int(os.environ.get("LOCAL_S3_MASTER_PORT", 9333)),
        volume=int(os.environ.get("LOCAL_S3_VOLUME_PORT", 9340)),
        filer=int(os.environ.get("LOCAL_S3_FILER_PORT", 9350)),
    )
    busy = [port for base in vars(ports).values() for port in (base, base + 10000) if not port_is_free(port)]
    if busy:
        sys.exit(f"Ports {busy} on 127.0.0.1 are in use: is another `make run` running? Set LOCAL_S3_PORT etc.")
    access_key, secret_key = local_credentials()
    server = LocalS3Server(data_dir=LOCAL_S3_DIR, access_key=access_key, secret_key=secret_key, ports=ports)
    print(f"Starting the local S3 server (SeaweedFS) on {server.endpoint_url} ...", flush=True)
    server.start()
    bucket = os.environ.get("AWS_STORAGE_BUCKET_NAME", "alca-inmo")
    server.ensure_private_bucket(bucket)
    os.environ.update(
        AWS_ACCESS_KEY_ID=access_key,
        AWS_SECRET_ACCESS_KEY=secret_key,
        AWS_S3_ENDPOINT_URL=server.endpoint_url,
        AWS_STORAGE_BUCKET_NAME=bucket,
    )
    print(f"Local S3 ready: private bucket '{bucket}' at {server.endpoint_url}", flush=True)
    return server


def stop_on_sigterm(signum, frame) -> None:
    raise KeyboardInterrupt


def main() -> None:
    # A process manager's SIGTERM shuts down like Ctrl-C: the API server, then the S3 server.
    signal.signal(signal.SIGTERM, stop_on_sigterm)
    environ.Env.read_env(BASE_DIR / ".env", overwrite=False)
    port = os.environ.get("PORT", "8000")
    external_s3 = bool(os.environ.get("AWS_ACCESS_KEY_ID") or os.environ.get("AWS_S3_ENDPOINT_URL"))
    s3_server = None if external_s3 else start_local_s3()
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    try:
        subprocess.run([*manage, "migrate", "--noinput"], check=True, cwd=BASE_DIR)
        print(f"Serving the API on http://127.0.0.1:{port}/api/ (Ctrl-C stops everything)", flush=True)
        # --insecure serves the admin's and Swagger UI's static files while DEBUG is off (JSON errors, no tracebacks).
        subprocess.run(
            [*manage, "runserver", f"127.0.0.1:{port}", "--noreload", "--insecure"], check=False, cwd=BASE_DIR
        )
    except KeyboardInterrupt:
        pass
    except subprocess.CalledProcessError as error:
        sys.exit(error.returncode)
    finally:
        if s3_server is not None:
            print("Stopping the local S3 server ...", flush=True)
            s3_server.stop()


if __name__ == "__main__":
    main()
