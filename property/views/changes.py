"""`GET /api/changes/`: the feed of changes to houses and photos, for copies kept elsewhere (portals, a public site,
an app's offline copy) to follow.

Who sees what: every authenticated user sees every change, as every authenticated user reads every house and photo
in the lists; what the feed's entries carry is what those lists answer (services/change_feed.py explains the order).
"""

from __future__ import annotations

from drf_spectacular.utils import extend_schema
from rest_framework.generics import GenericAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.utils.urls import replace_query_param

from backend.schema import error_response

from ..change_serializers import ChangeSerializer, ChangesPageSerializer, ChangesQuerySerializer
from ..services.change_feed import ChangesPage, changed_objects, changes_after, changes_head

# A snapshot's lists: walked by cursor, 100 rows a page.
SNAPSHOT_QUERY = "?paging=cursor&page_size=100"


class ChangesView(GenericAPIView):
    permission_classes = [IsAuthenticated]
    serializer_class = ChangesPageSerializer
    pagination_class = None

    @extend_schema(
        operation_id="changes_list",
        parameters=[ChangesQuerySerializer],
        responses={200: ChangesPageSerializer, 410: error_response("The cursor is older than the changes kept")},
    )
    def get(self, request: Request) -> Response:
        """Every change to a house or a photo (created, updated, deleted, reordered, main photo changed, variants
        ready), in an order that misses none: the changes after `?after=`, up to `page_size`. Without `after`,
        no changes and a cursor that starts now, with the lists to take a snapshot from first."""
        query = ChangesQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        after = query.validated_data.get("after")
        if after is None:
            page = ChangesPage(changes=[], position=changes_head(), more=False)
        else:
            page = changes_after(after, size=query.validated_data["page_size"])
        context = {**self.get_serializer_context(), "objects": changed_objects(page.changes)}
        answer = {
            "results": ChangeSerializer(page.changes, many=True, context=context).data,
            "cursor": page.position.cursor,
            "next": replace_query_param(request.build_absolute_uri(), "after", page.position.cursor),
            "has_more": page.more,
        }
        if after is None:
            answer["snapshot"] = {
                name: reverse(route, request=request) + SNAPSHOT_QUERY
                for name, route in (
                    ("houses_for_sale", "house-for-sale-list"),
                    ("houses_for_rent", "house-for-rent-list"),
                    ("property_images", "property-image-list"),
                )
            }
        return Response(answer)
