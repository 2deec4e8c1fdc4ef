"""backend/s3.py: the S3 operations beyond the storage API, against the test session's SeaweedFS."""

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage, storages

from backend import s3
from backend.s3 import S3ImageService, S3StorageError
from backend.storage_backends import PrivateMediaStorage
from testing import TEST_BUCKET, s3_error_answer, s3_event_handler

KEY = "properties/houseforsale/1/20250112_143022_a1b2c3d4.jpg"


def test_upload_to_unreachable_s3_raises_storage_error(bucket_keys):
    storage = PrivateMediaStorage(endpoint_url="http://127.0.0.1:9", client_config=None)
    with pytest.raises(S3StorageError):
        S3ImageService(storage).upload(key=KEY, content=ContentFile(b"x"))


def test_the_image_service_signs_with_the_storage_itself_not_the_lazy_default_storage_proxy():
    assert S3ImageService().storage is storages["default"]
    assert S3ImageService(default_storage).storage is storages["default"]
    other = PrivateMediaStorage(bucket_name="another-bucket")
    assert S3ImageService(other).storage is other


def test_a_download_that_fails_midway_closes_its_temporary_file(bucket_keys, s3_client, monkeypatch):
    s3_client.put_object(Bucket=TEST_BUCKET, Key="uploads/1/" + "a" * 32, Body=b"x" * 2000)
    made = []

    class RecordedTemporaryFile(s3.SpooledTemporaryFile):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            made.append(self)

    monkeypatch.setattr(s3, "SpooledTemporaryFile", RecordedTemporaryFile)
    service = S3ImageService()

    def refuse(request, **kwargs):
        return s3_error_answer(request, status=500, code="InternalError", message="injected: no real server fails here")

    with s3_event_handler(service.client, "before-send.s3.GetObject", refuse), pytest.raises(S3StorageError):
        service.download(key="uploads/1/" + "a" * 32, max_size=10_000)
    assert made and all(temporary.closed for temporary in made)
