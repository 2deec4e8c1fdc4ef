"""Root URLs: the API under /api/, its schema and docs, the admin."""

from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularSwaggerView
from rest_framework.permissions import AllowAny

from property.views.share_links import shared_page

from .auth import ThrottledTokenBlacklistView, ThrottledTokenObtainPairView, ThrottledTokenRefreshView
from .health import health
from .metrics import metrics
from .schema_view import SchemaView

urlpatterns = [
    path("health/", health, name="health"),
    path("metrics", metrics, name="metrics"),
    path("admin/", admin.site.urls),
    path("api/token/", ThrottledTokenObtainPairView.as_view(), name="token_obtain_pair"),
    path("api/token/refresh/", ThrottledTokenRefreshView.as_view(), name="token_refresh"),
    path("api/token/blacklist/", ThrottledTokenBlacklistView.as_view(), name="token_blacklist"),
    path("api/schema/", SchemaView.as_view(permission_classes=[AllowAny]), name="schema"),
    path(
        "api/docs/",
        SpectacularSwaggerView.as_view(url_name="schema", permission_classes=[AllowAny]),
        name="swagger-ui",
    ),
    path("api/", include("property.urls")),
    path("shared/<str:token>/", shared_page, name="shared-page"),
]

handler400 = "backend.exceptions.bad_request"
handler403 = "backend.exceptions.permission_denied"
handler404 = "backend.exceptions.not_found"
handler500 = "backend.exceptions.server_error"
