"""Refusing oversized uploads while the request body streams in, before it has all been read."""

from __future__ import annotations

from django.conf import settings
from django.core.files.uploadhandler import FileUploadHandler

from backend.exceptions import ApplicationError

from .images import clean_original_filename, human_size

MEGABYTE = 1024 * 1024
# Room for the form fields and multipart boundaries beside the files themselves.
MULTIPART_OVERHEAD = MEGABYTE


class UploadTooLarge(ApplicationError):
    status_code = 413


class UploadSizeLimitHandler(FileUploadHandler):
    """First of the upload handlers: counts each file's bytes and stops the upload past the limits.

    It passes every chunk on to Django's memory and temporary-file handlers and keeps nothing itself.
    """

    def handle_raw_input(self, input_data, META, content_length, boundary, encoding=None) -> None:
        limit = settings.PROPERTY_IMAGE_MAX_FILES * settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE + MULTIPART_OVERHEAD
        if content_length > limit:
            raise UploadTooLarge(
                f"The request body is {content_length / MEGABYTE:.1f} MB, more than the {limit / MEGABYTE:.0f} MB "
                f"allowed ({settings.PROPERTY_IMAGE_MAX_FILES} files of at most "
                f"{human_size(settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE)})"
            )

    def new_file(self, field_name, file_name, *args, **kwargs) -> None:
        super().new_file(field_name, file_name, *args, **kwargs)
        self.received = 0

    def receive_data_chunk(self, raw_data: bytes, start: int) -> bytes:
        self.received += len(raw_data)
        limit = settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE
        if self.received > limit:
            raise UploadTooLarge(
                f"{clean_original_filename(self.file_name)}: the file is larger than the {human_size(limit)} limit"
            )
        return raw_data

    def file_complete(self, file_size: int) -> None:
        return None
