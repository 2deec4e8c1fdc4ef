"""`/api/schema/`: drf-spectacular's view, made safe for a threaded server."""

import threading

from drf_spectacular.views import SpectacularAPIView


class SchemaView(SpectacularAPIView):
    """The schema, made by one thread at a time in a process: drf-spectacular's generator keeps process-wide state
    (its extensions' target classes, imported on first use; GENERATOR_STATS: tfranzel/drf-spectacular#1368), and a
    fresh server's first schema requests, made at once in several threads, answered 500."""

    generating = threading.Lock()

    def _get_schema_response(self, request):
        with self.generating:
            return super()._get_schema_response(request)
