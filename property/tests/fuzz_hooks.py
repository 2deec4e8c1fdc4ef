"""Schemathesis hooks: a schema-valid upload carries real photos.

The schema says which image types the upload fields take (their multipart encoding), which is all OpenAPI
can say; Schemathesis still sends any bytes there, or a GIF or a PDF labelled `image/jpeg`, and would call the
server's 400 a rejected valid request. Registering media type strategies instead (`schemathesis.openapi.
media_type`) trips two bugs of Schemathesis 4.32.5: an array of files is sent as one part without a file name,
and its coverage phase sends the other required fields empty.

Loaded by `schemathesis run` through `schemathesis.toml` (run it from this folder) and by the suite's own
Schemathesis test.
"""

import zlib

import schemathesis
from schemathesis.core.parameters import ParameterLocation
from schemathesis.core.transforms import to_wire_text
from schemathesis.transport.serialization import Binary

from property.tests.photos import PHOTOS

FILE_FIELDS = ("image", "images")
LIST_FILE_FIELDS = ("images",)
# The upload bodies' text fields (the schema's strings); their other fields are typed (is_main, order, object_id).
TEXT_FIELDS = ("caption",)
# Photos small enough to keep the run fast; the panoramas are test_images' business.
SENT_PHOTOS = [payload for payload, _format, size in PHOTOS.values() if size[0] * size[1] <= 48 * 48]


def as_photos(value):
    """Each file of a file field's value as one of the photos; anything else as it is."""
    if isinstance(value, list):
        return [as_photos(item) for item in value]
    return photo_for(value) if is_file(value) else value


def photo_for(generated) -> Binary:
    """One of the photos, chosen by what Schemathesis generated so that a replayed case sends the same one, in
    Schemathesis' wrapper for bytes as its generator gives them."""
    data = getattr(generated, "data", generated)
    data = data if isinstance(data, bytes) else data.encode()
    return Binary(SENT_PHOTOS[zlib.crc32(data) % len(SENT_PHOTOS)])


def is_file(value) -> bool:
    """What a `format: binary` string may be, as Schemathesis generates one: bytes, or (in its coverage phase) text.
    A number, null, an object in a file field is not a file."""
    return isinstance(value, bytes | Binary | str)


def as_judged(value):
    """A file field's value as the schema judges it: a file as the `format: binary` string it stands for; anything
    else as a value no string schema takes (the schema says "a string", and 400 or null sent as a multipart part
    would read as one)."""
    if isinstance(value, list):
        return [as_judged(item) for item in value]
    return "photo" if is_file(value) else 0


def judge_again_with_text_for_photos(case, body: dict) -> None:
    """Judge a multipart body again: Schemathesis calls every body holding bytes invalid, so judge it with text
    standing for each file (as_judged), and a non-file where a file is required invalid. (A stateful link that
    fills in the very field a negative body broke, an `object_id` of 0 becoming the id of the house just created:
    schemathesis#2983.)"""
    case.body = {name: as_judged(value) if name in FILE_FIELDS else value for name, value in body.items()}
    case._meta.mark_dirty(ParameterLocation.BODY)
    case.operation.schema.revalidate_case_metadata(case)
    case.body = body


def as_multipart_sends_it(body: dict) -> dict:
    """The body as the server receives it. Multipart has no arrays and no types: a field given once is a list of one,
    and a text field holds whatever was sent, as text (`false` and `null` in their JSON spelling; a list as that many
    parts, of which Django reads the last). A negative body whose only violation is one of those (one file where the
    schema says a list of files; `false` where it says a caption) is, as sent, valid, and the server rightly takes
    it; Schemathesis would call that an accepted invalid request. Sending this instead sends the same bytes."""
    sent = {}
    for name, value in body.items():
        if name in FILE_FIELDS:
            if name in LIST_FILE_FIELDS and not isinstance(value, list):
                value = [value]
        elif isinstance(value, list):
            if not value:
                continue  # no part at all
            value = value[-1]
        if name in TEXT_FIELDS and not isinstance(value, str):
            value = as_text(value)
        sent[name] = value
    return sent


def as_text(value) -> str:
    """How Schemathesis sends a value in a multipart text part."""
    return to_wire_text(value) if isinstance(value, bool | dict | list) or value is None else str(value)


def without_made_up_cursor(query: dict) -> None:
    """A list's `cursor` and the feed's `after` are tokens the API signs (the lists' `next` and `previous` links, the
    feed's `cursor`): no schema can say which strings are one, and any other is rightly a 400, as is a page number
    beside a cursor. A schema-valid query keeps its other parameters and goes without them; test_pagination and
    test_changes test cursors, made-up ones included."""
    query.pop("cursor", None)
    query.pop("after", None)
    if query.get("paging") == "cursor":
        query.pop("page", None)


@schemathesis.hook
def before_call(context, case, **kwargs):
    # Not `case.meta`: that judges a body changed since it was generated (by a stateful link, or below) again,
    # and calls every body holding bytes invalid. The verdict from generation is the one that holds.
    body, meta = case.body, case._meta
    if meta is not None and isinstance(case.query, dict) and not meta.is_negative_at(ParameterLocation.QUERY):
        without_made_up_cursor(case.query)
    if case.media_type != "multipart/form-data" or not isinstance(body, dict) or meta is None:
        return
    if meta.is_negative_at(ParameterLocation.BODY):
        # Schemathesis does not check that a multipart body it made to be invalid is (it cannot judge one holding
        # bytes): a caption of "0" made to break the blank branch of `oneOf` still matches the other branch, and
        # a stateful link may fill in the very field the body broke. Judge it, as it is sent.
        body = case.body = as_multipart_sends_it(body)
        judge_again_with_text_for_photos(case, body)
    if meta.is_negative_at(ParameterLocation.BODY):
        return
    # A new body: Schemathesis shares one generated body between the cases its coverage phase derives from it.
    # Only files become photos (is_file): a valid body holds nothing else in a file field.
    case.body = {name: as_photos(value) if name in FILE_FIELDS else value for name, value in body.items()}
    meta.clear_dirty(ParameterLocation.BODY)
