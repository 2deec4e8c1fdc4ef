"""The guide's serializer, ViewSet with `secure_url`, and URLs."""

from django.contrib.contenttypes.models import ContentType
from django.urls import include, path
from rest_framework import routers, serializers, viewsets
from rest_framework.decorators import action
from rest_framework.response import Response
from rest_framework_simplejwt.views import TokenObtainPairView

from .models import PropertyImage


class PropertyImageSerializer(serializers.ModelSerializer):
    image_url = serializers.SerializerMethodField()  # deprecated: kept for backward compatibility
    secure_url = serializers.SerializerMethodField()

    class Meta:
        model = PropertyImage
        fields = ["id", "image", "image_url", "secure_url", "caption", "is_main", "order", "uploaded_at"]
        fields += ["content_type", "object_id"]

    def get_image_url(self, image):
        return image.image.url if image.image else None

    def get_secure_url(self, image):
        return image.get_secure_url()


class PropertyImageViewSet(viewsets.ModelViewSet):
    queryset = PropertyImage.objects.all()
    serializer_class = PropertyImageSerializer
    filterset_fields = ["content_type", "object_id", "is_main"]

    @action(detail=True, methods=["get"])
    def secure_url(self, request, pk=None):
        image = self.get_object()
        expiration = int(request.query_params.get("expiration", 3600))
        url = image.get_secure_url(expiration)
        if url is None:
            return Response({"error": "Could not generate secure URL"}, status=500)
        return Response({"secure_url": url, "expires_in": expiration, "image_id": image.id})

    @action(detail=False, methods=["post"])
    def bulk_upload(self, request):
        """The files as they come, one row each: no check of what they are, no re-encoding, no size variants."""
        files = request.FILES.getlist("images")
        if not files:
            return Response({"error": "No images provided"}, status=400)
        content_type = ContentType.objects.get_for_model(PropertyImage)  # the reference has no house models
        images = [
            PropertyImage.objects.create(content_type=content_type, object_id=request.data["object_id"], image=file)
            for file in files
        ]
        return Response(PropertyImageSerializer(images, many=True, context={"request": request}).data, status=201)


router = routers.DefaultRouter()
router.register("property-images", PropertyImageViewSet)
urlpatterns = [
    path("api/token/", TokenObtainPairView.as_view()),
    path("api/", include(router.urls)),
]
