"""Token endpoints, throttled per client address (the "token" rate) against password guessing."""

from rest_framework.throttling import ScopedRateThrottle
from rest_framework_simplejwt.views import TokenBlacklistView, TokenObtainPairView, TokenRefreshView


class TokenThrottleMixin:
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "token"


class ThrottledTokenObtainPairView(TokenThrottleMixin, TokenObtainPairView):
    """`POST /api/token/`: username and password for an access and a refresh token."""


class ThrottledTokenRefreshView(TokenThrottleMixin, TokenRefreshView):
    """`POST /api/token/refresh/`: a refresh token for a new access token and a new refresh token."""


class ThrottledTokenBlacklistView(TokenThrottleMixin, TokenBlacklistView):
    """`POST /api/token/blacklist/`: log out by blacklisting a refresh token."""
