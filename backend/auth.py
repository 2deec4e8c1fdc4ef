"""Token endpoints, throttled per client address (the "token" rate) against password guessing."""

from collections.abc import Sequence

from django.contrib.auth import get_user_model
from rest_framework.throttling import BaseThrottle, ScopedRateThrottle
from rest_framework_simplejwt import serializers
from rest_framework_simplejwt.exceptions import AuthenticationFailed
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView

from .authentication import CachedUserJWTAuthentication


class TokenRefreshSerializer(serializers.TokenRefreshSerializer):
    """simplejwt's, refusing (401) a refresh token whose user is gone, inactive or has a new password, as the
    access token it would give would be refused (simplejwt answers 500 for a deleted user and gives the token)."""

    def validate(self, attrs: dict) -> dict:
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(jwt_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{jwt_settings.USER_ID_FIELD: user_id}).first()
        if user is None or not CachedUserJWTAuthentication.still_accepted(user, refresh):
            raise AuthenticationFailed(str(self.error_messages["no_active_account"]), "no_active_account")
        return super().validate(attrs)


class TokenThrottleMixin:
    throttle_classes: Sequence[type[BaseThrottle]] = [ScopedRateThrottle]
    throttle_scope = "token"


class ThrottledTokenObtainPairView(TokenThrottleMixin, TokenObtainPairView):
    """`POST /api/token/`: username and password for an access and a refresh token."""


class ThrottledTokenRefreshView(TokenThrottleMixin, TokenRefreshView):
    """`POST /api/token/refresh/`: a refresh token for a new access token and a new refresh token."""

    _serializer_class = "backend.auth.TokenRefreshSerializer"


class ThrottledTokenBlacklistView(TokenThrottleMixin, TokenBlacklistView):
    """`POST /api/token/blacklist/`: log out by blacklisting a refresh token."""
