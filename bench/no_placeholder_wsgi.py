"""The API without the upload's placeholder (bench/uploads.py): the same code, with property.images.image_placeholder
replaced by one that computes nothing, so that what the placeholder costs the upload request can be timed."""

from backend.wsgi import application
from property import images


def no_placeholder(image) -> images.Placeholder:
    return images.Placeholder(thumbhash="", color="")


images.image_placeholder = no_placeholder

__all__ = ["application"]
