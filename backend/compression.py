"""gzip for the answers that shrink with it."""

from django.http import HttpRequest, HttpResponseBase
from django.middleware.gzip import GZipMiddleware

# Content that is compressed already: gzip would spend CPU for nothing and, streamed, take away its Content-Length.
COMPRESSED_TYPES = ("application/zip", "image/")


class GZipUnlessCompressedMiddleware(GZipMiddleware):
    """Django's GZipMiddleware, which leaves alone a ZIP of photos (a house's download) and images."""

    def process_response(self, request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
        if response.get("Content-Type", "").startswith(COMPRESSED_TYPES):
            return response
        return super().process_response(request, response)
