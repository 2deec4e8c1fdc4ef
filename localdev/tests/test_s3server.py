"""The local S3 server launcher: port choice and bucket creation."""

import secrets
import socket

from backend.buckets import ensure_private_bucket
from localdev.s3server import GRPC_PORT_OFFSET, LocalS3Server, S3Ports, port_is_free


def test_free_ports_come_with_free_grpc_twins():
    ports = S3Ports.free()
    chosen = list(vars(ports).values())
    assert len(set(chosen)) == 4
    for port in chosen:
        assert port_is_free(port) and port_is_free(port + GRPC_PORT_OFFSET)


def test_a_listening_port_is_not_free():
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen()
        assert not port_is_free(listener.getsockname()[1])


def test_ensure_private_bucket_is_idempotent(s3_server):
    client = s3_server.client()
    ensure_private_bucket(client, "launcher-test")
    ensure_private_bucket(client, "launcher-test")
    assert "launcher-test" in [bucket["Name"] for bucket in client.list_buckets()["Buckets"]]
    client.delete_bucket(Bucket="launcher-test")


def test_several_buckets_on_one_server_each_take_writes(s3_server):
    client = s3_server.client()
    buckets = [f"launcher-many-{n}" for n in range(3)]
    for bucket in buckets:
        ensure_private_bucket(client, bucket)
        client.put_object(Bucket=bucket, Key="photo.jpg", Body=b"photo")
    for bucket in buckets:
        assert client.get_object(Bucket=bucket, Key="photo.jpg")["Body"].read() == b"photo"
        client.delete_object(Bucket=bucket, Key="photo.jpg")
        client.delete_bucket(Bucket=bucket)


def test_a_server_ignores_the_aws_credentials_of_the_process_that_starts_it(tmp_path, monkeypatch):
    """A process set up for one server (its AWS_ variables, as the bench's Django settings) starting another with
    the same access key: SeaweedFS would take the variables as an identity and refuse the new server's own client."""
    monkeypatch.setenv("AWS_ACCESS_KEY_ID", "shared-key")
    monkeypatch.setenv("AWS_SECRET_ACCESS_KEY", secrets.token_hex(20))
    server = LocalS3Server(data_dir=tmp_path / "s3", access_key="shared-key", secret_key=secrets.token_hex(20))
    server.start(timeout=60)
    try:
        ensure_private_bucket(server.client(), "own-keys")
        assert [bucket["Name"] for bucket in server.client().list_buckets()["Buckets"]] == ["own-keys"]
    finally:
        server.stop()
