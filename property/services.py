"""Side effects on property images: storing, deleting and choosing the main one."""

from __future__ import annotations

import contextvars
import logging
import os
import re
import threading
import uuid
from collections.abc import Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import timedelta
from typing import IO

from django.conf import settings
from django.contrib.contenttypes.models import ContentType
from django.core.exceptions import ObjectDoesNotExist
from django.core.files import File
from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from PIL import Image

from backend.storage_backends import S3ImageService, S3StorageError

from .images import (
    ACCEPTED_FORMATS,
    ImageRejected,
    ImageVariant,
    SanitizedImage,
    make_variants,
    sanitize_image,
    stored_file,
)
from .models import House, PropertyImage, StagedUploadClaim, property_image_key

logger = logging.getLogger(__name__)


class NoImagesProvided(Exception):
    """An upload request without any file."""


class PropertyNotFound(ObjectDoesNotExist):
    """The house was deleted while its images were being stored."""


class TooManyImages(Exception):
    """More files in one request than PROPERTY_IMAGE_MAX_FILES."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        super().__init__(f"At most {limit} images can be uploaded in one request")


def property_images_store(
    *,
    house: House,
    files: Sequence[IO[bytes]],
    caption: str = "",
    is_main: bool = False,
    order: int | None = None,
) -> list[PropertyImage]:
    """Check, re-encode and upload the files concurrently, then create their rows in one transaction.

    Each file is handled by a bounded pool of workers (decoding is further limited to one
    per CPU core), so memory does not grow with the number of files. One bad file rejects
    the whole request (the first bad one in request order is reported); if S3 or the database
    fails midway, every object this call uploaded is deleted again, so no row exists without
    its object and no object without its row.
    With `is_main`, the first file becomes the property's only main image.
    """
    if not files:
        raise NoImagesProvided
    if len(files) > settings.PROPERTY_IMAGE_MAX_FILES:
        raise TooManyImages(settings.PROPERTY_IMAGE_MAX_FILES)
    content_type = ContentType.objects.get_for_model(house)
    s3 = S3ImageService()
    jobs = [
        # Each job runs in a copy of this request's context, so its log lines carry the request id.
        upload_executor().submit(
            contextvars.copy_context().run,
            _store_file,
            s3=s3,
            upload=upload,
            model_name=content_type.model,
            property_id=house.pk,
        )
        for upload in files
    ]
    # Every job finishes before anything is decided, so no upload lands after a clean-up.
    outcomes: list[StoredFile] = [job.result() for job in jobs]
    try:
        failure = next((outcome.error for outcome in outcomes if outcome.error is not None), None)
        if failure is not None:
            raise failure
        return _create_image_rows(
            house=house,
            content_type=content_type,
            images=[(outcome.image, outcome.key, outcome.variants) for outcome in outcomes],
            caption=caption,
            is_main=is_main,
            order=order,
        )
    except BaseException:
        _delete_objects_quietly(s3, [key for outcome in outcomes for key in outcome.uploaded_keys])
        raise
    finally:
        for outcome in outcomes:
            if outcome.image is not None:
                outcome.image.close()


@dataclass
class StoredFile:
    """What became of one uploaded file: its sanitised image and object key, or why it failed."""

    image: SanitizedImage | None = None
    key: str | None = None
    error: BaseException | None = None
    # Every key written (or attempted) for this file: the original's, then its variants'.
    uploaded_keys: list[str] = field(default_factory=list)
    # The row's `variants`: name -> key, width, height.
    variants: dict[str, dict] = field(default_factory=dict)


def property_image_variants_upload(
    *,
    s3: S3ImageService,
    variants: Sequence[ImageVariant],
    original_key: str,
    original_filename: str,
    uploaded_keys: list[str],
    original: File | None = None,
) -> dict[str, dict]:
    """Store each variant beside the original (and `original` itself under `original_key`, when given),
    side by side; returns what a row keeps of the variants.

    Every key is added to `uploaded_keys` before the uploads start, so a failure can clean up after itself.
    """
    download_stem = original_filename.rsplit(".", 1)[0] or "image"
    uploads = [] if original is None else [(original_key, original)]
    stored = {}
    for variant in variants:
        key = variant.key_beside(original_key)
        download_name = f"{download_stem}_{variant.nominal_width}w.{variant.extension}"
        uploads.append((key, stored_file(variant.content, variant.format, download_name)))
        stored[variant.name] = {"key": key, "width": variant.width, "height": variant.height}
    uploaded_keys.extend(key for key, _ in uploads)
    _upload_side_by_side(s3, uploads)
    return stored


def _upload_side_by_side(s3: S3ImageService, uploads: list[tuple[str, File]]) -> None:
    """PUT each (key, file) on the object-upload threads, wait for every one, then raise the first failure.

    One photo's original and variants thus wait for one round trip to S3 rather than one each.
    """
    if len(uploads) == 1:
        ((key, content),) = uploads
        s3.upload(key=key, content=content)
        return
    puts = [
        object_upload_executor().submit(contextvars.copy_context().run, s3.upload, key=key, content=content)
        for key, content in uploads
    ]
    failure = next((error for put in puts if (error := put.exception()) is not None), None)
    if failure is not None:
        raise failure


def property_image_variants_rebuild(*, s3: S3ImageService, image: PropertyImage) -> None:
    """Make the configured variants of a stored image again from its original, point the row at them and
    delete the variant objects they replace (another format or width than the settings now ask for).

    If an upload fails or the row is deleted meanwhile, the variant objects this call added are deleted
    again and the row keeps the variants it had.
    """
    original = s3.download(key=image.image.name, max_size=settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE * 2)
    try:
        # The stored original is already upright and stripped: only its pixels are read here.
        with Image.open(original, formats=ACCEPTED_FORMATS) as decoded:
            decoded.load()
            variants = make_variants(decoded)
    finally:
        original.close()
    uploaded_keys: list[str] = []
    try:
        made = property_image_variants_upload(
            s3=s3,
            variants=variants,
            original_key=image.image.name,
            original_filename=image.original_filename,
            uploaded_keys=uploaded_keys,
        )
        if not PropertyImage.objects.filter(pk=image.pk).update(variants=made):
            raise PropertyImage.DoesNotExist(f"image {image.pk} was deleted during the rebuild")
    except BaseException:
        # Keep the objects the row (if it still exists) points at; delete the ones this rebuild added.
        current = PropertyImage.objects.filter(pk=image.pk).first()
        still_used = set(current.object_keys) if current is not None else set()
        _delete_objects_quietly(s3, [key for key in uploaded_keys if key not in still_used])
        raise
    finally:
        for variant in variants:
            variant.content.close()
    superseded = sorted(set(image.object_keys) - {image.image.name} - set(uploaded_keys))
    image.variants = made
    _delete_objects_quietly(s3, superseded)


# Decoding a photo takes its full pixel buffer in memory: at most one per core at a time.
_decoding_slots = threading.BoundedSemaphore(os.cpu_count() or 1)


def _store_file(*, s3: S3ImageService, upload: IO[bytes], model_name: str, property_id: int) -> StoredFile:
    outcome = StoredFile()
    try:
        with _decoding_slots:
            outcome.image = sanitize_image(upload, filename=getattr(upload, "name", None))
        image = outcome.image
        outcome.key = property_image_key(model_name=model_name, property_id=property_id, extension=image.extension)
        outcome.variants = property_image_variants_upload(
            s3=s3,
            variants=image.variants,
            original_key=outcome.key,
            original_filename=image.original_filename,
            uploaded_keys=outcome.uploaded_keys,
            original=image.as_file(),
        )
    except Exception as error:  # noqa: BLE001 - handed back to the request's thread, which raises it
        outcome.error = error
    return outcome


_executors: dict[str, ThreadPoolExecutor] = {}
_executors_lock = threading.Lock()


def _executor(name: str) -> ThreadPoolExecutor:
    """The process's pool `name`, made on first use with S3_UPLOAD_CONCURRENCY threads and shared by all
    its requests; their HTTP connections to S3 stay open between uploads."""
    with _executors_lock:
        if name not in _executors:
            _executors[name] = ThreadPoolExecutor(max_workers=settings.S3_UPLOAD_CONCURRENCY, thread_name_prefix=name)
        return _executors[name]


def upload_executor() -> ThreadPoolExecutor:
    """Threads that check, re-encode and store one file each."""
    return _executor("image-upload")


def object_upload_executor() -> ThreadPoolExecutor:
    """Threads that PUT one object each. Apart from upload_executor(), whose jobs wait on these: a job
    waiting on work queued behind it in its own pool could wait forever."""
    return _executor("object-upload")


@transaction.atomic
def _create_image_rows(
    *,
    house: House,
    content_type: ContentType,
    images: list[tuple[SanitizedImage, str, dict[str, dict]]],
    caption: str,
    is_main: bool,
    order: int | None,
) -> list[PropertyImage]:
    _lock_house(content_type=content_type, object_id=house.pk)
    if order is None:
        siblings = PropertyImage.objects.filter(content_type=content_type, object_id=house.pk)
        highest = siblings.aggregate(highest=Max("order"))["highest"]
        order = 0 if highest is None else highest + 1
    if is_main:
        _unset_main_images(content_type_id=content_type.pk, object_id=house.pk)
    created = []
    for position, (image, key, variants) in enumerate(images):
        row = PropertyImage(
            content_type=content_type,
            object_id=house.pk,
            caption=caption,
            is_main=is_main and position == 0,
            order=order + position,
            original_filename=image.original_filename,
            width=image.width,
            height=image.height,
            size=image.size,
            mime_type=image.mime_type,
            variants=variants,
        )
        row.image.name = key
        row.save()
        created.append(row)
    return created


def _lock_house(*, content_type: ContentType, object_id: int) -> None:
    """Serialise writers of one house's images (a row lock on PostgreSQL; SQLite locks the whole database).

    PropertyNotFound if the house was deleted since the request found it: no image may point at it.
    """
    house_model = content_type.model_class()
    if house_model.objects.select_for_update().filter(pk=object_id).values_list("pk", flat=True).first() is None:
        raise PropertyNotFound


def _unset_main_images(*, content_type_id: int, object_id: int, keep_pk: int | None = None) -> None:
    PropertyImage.objects.filter(content_type_id=content_type_id, object_id=object_id, is_main=True).exclude(
        pk=keep_pk
    ).update(is_main=False)


def _delete_objects_quietly(s3: S3ImageService, keys: list[str]) -> None:
    for key in keys:
        try:
            s3.delete(key=key)
        except S3StorageError:
            logger.error("Orphaned S3 object left behind key=%s", key)


def property_image_update(
    *, image: PropertyImage, caption: str | None = None, order: int | None = None, is_main: bool | None = None
) -> PropertyImage:
    """Change caption, order or main flag; making an image main unsets its property's other main image.

    PropertyImage.DoesNotExist if the image (or its house) was deleted meanwhile: saving would write it back.
    """
    with transaction.atomic():
        try:
            _lock_house(content_type=ContentType.objects.get_for_id(image.content_type_id), object_id=image.object_id)
        except PropertyNotFound:
            raise PropertyImage.DoesNotExist from None
        if not PropertyImage.objects.select_for_update().filter(pk=image.pk).exists():
            raise PropertyImage.DoesNotExist
        if caption is not None:
            image.caption = caption
        if order is not None:
            image.order = order
        if is_main is not None:
            if is_main:
                _unset_main_images(content_type_id=image.content_type_id, object_id=image.object_id, keep_pk=image.pk)
            image.is_main = is_main
        image.save()
    return image


def property_image_set_main(*, image: PropertyImage) -> PropertyImage:
    """Make `image` the only main image of its property, safe under concurrent requests."""
    return property_image_update(image=image, is_main=True)


def property_image_delete_objects_on_commit(*, image: PropertyImage) -> None:
    """Delete the image's objects (original and variants) once the transaction commits (never on rollback)."""
    keys = image.object_keys
    if keys:
        transaction.on_commit(lambda: _delete_objects_quietly(S3ImageService(), keys))


# Direct uploads: the client posts the file straight to S3, under a staging key only it was given.
STAGING_PREFIX = "uploads/"
DIRECT_UPLOAD_EXPIRES_IN = 600  # 10 minutes to post the file


class UploadKeyRejected(Exception):
    """A staging key that was not issued to this user."""


class UploadNotFound(Exception):
    """Nothing was posted under the staging key (or it was already used)."""


class UploadInProgress(Exception):
    """Another request is completing the same staging key right now."""


class UploadUsedElsewhere(Exception):
    """The staging key was already completed, for another property."""


# A claim without an image this old belongs to a request that died (completing takes seconds): another may
# take it over.
STAGED_UPLOAD_CLAIM_TIMEOUT = timedelta(minutes=5)
# How long a completed upload's key keeps answering with its image (for clients that retry after a lost answer).
COMPLETED_UPLOAD_MEMORY = timedelta(days=1)


@contextmanager
def staged_upload_claimed(key: str) -> Iterator[StagedUploadClaim]:
    """Claim `key` for the block, which sets the claim's image once it has stored one.

    UploadInProgress if another request holds the claim. If the block fails, the claim goes and the key may
    be completed again.
    """
    now = timezone.now()
    StagedUploadClaim.objects.filter(claimed_at__lt=now - COMPLETED_UPLOAD_MEMORY).delete()
    StagedUploadClaim.objects.filter(key=key, image=None, claimed_at__lt=now - STAGED_UPLOAD_CLAIM_TIMEOUT).delete()
    try:
        with transaction.atomic():  # committed at once, so that other requests see it
            claim = StagedUploadClaim.objects.create(key=key)
    except IntegrityError:
        raise UploadInProgress from None
    try:
        yield claim
    except BaseException:
        StagedUploadClaim.objects.filter(pk=claim.pk).delete()
        raise


def direct_upload_issue(*, user_id: int) -> dict:
    """A presigned POST for one new staging key under `uploads/{user_id}/`."""
    key = f"{STAGING_PREFIX}{user_id}/{uuid.uuid4().hex}"
    max_size = settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE
    post = S3ImageService().presigned_post(key=key, max_size=max_size, expires_in=DIRECT_UPLOAD_EXPIRES_IN)
    return {
        "url": post["url"],
        "fields": post["fields"],
        "key": key,
        "expires_in": DIRECT_UPLOAD_EXPIRES_IN,
        "max_size": max_size,
    }


def direct_upload_complete(
    *,
    user_id: int,
    key: str,
    house: House,
    filename: str = "",
    caption: str = "",
    is_main: bool = False,
    order: int | None = None,
) -> list[PropertyImage]:
    """Check and store the file posted under `key` exactly like a multipart upload, then drop the staging object.

    The staging object is deleted whatever the image turned out to be; it is kept only when S3
    itself failed, so that the client can complete again. One request at a time completes a key: another
    one meanwhile gets UploadInProgress, and for a day one after it gets the same image back (UploadUsedElsewhere
    if it names another property).
    """
    if not re.fullmatch(rf"{STAGING_PREFIX}{user_id}/[0-9a-f]{{32}}", key):
        raise UploadKeyRejected
    completed = (
        StagedUploadClaim.objects.filter(
            key=key, image__isnull=False, claimed_at__gte=timezone.now() - COMPLETED_UPLOAD_MEMORY
        )
        .select_related("image")
        .first()
    )
    if completed is not None:
        image = completed.image
        image_house = (ContentType.objects.get_for_id(image.content_type_id).model_class(), image.object_id)
        if image_house != (type(house), house.pk):
            raise UploadUsedElsewhere
        return [image]
    with staged_upload_claimed(key) as claim:
        images = _direct_upload_store(
            key=key, house=house, filename=filename, caption=caption, is_main=is_main, order=order
        )
        claim.image = images[0]
        claim.save(update_fields=["image"])
    return images


def _direct_upload_store(
    *, key: str, house: House, filename: str, caption: str, is_main: bool, order: int | None
) -> list[PropertyImage]:
    s3 = S3ImageService()
    display_name = filename or "image"
    try:
        content = s3.download(key=key, max_size=settings.PROPERTY_IMAGE_MAX_UPLOAD_SIZE)
    except FileNotFoundError as missing:
        raise UploadNotFound from missing
    except ValueError as too_large:
        _delete_objects_quietly(s3, [key])
        raise ImageRejected(display_name, "the file is larger than the upload limit") from too_large
    try:
        images = property_images_store(
            house=house, files=[File(content, name=display_name)], caption=caption, is_main=is_main, order=order
        )
    except S3StorageError:
        raise  # S3 failed: keep the staging object so that the client can complete again
    except BaseException:
        _delete_objects_quietly(s3, [key])
        raise
    finally:
        content.close()
    _delete_objects_quietly(s3, [key])
    return images
