"""JWT authentication that keeps the token's user a moment in memory instead of reading it per request."""

from django.conf import settings
from django.core.cache import caches
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver
from rest_framework_simplejwt.authentication import JWTAuthentication
from rest_framework_simplejwt.settings import api_settings as jwt_settings
from rest_framework_simplejwt.utils import get_md5_hash_password

# settings.CACHES: this process's memory, entries kept AUTH_USER_CACHE_SECONDS.
USERS_CACHE = "users"


def cached_user_key(user_id) -> str:
    return f"user:{user_id}"


class CachedUserJWTAuthentication(JWTAuthentication):
    """simplejwt's JWTAuthentication, reading the token's user from this process's cache instead of the database
    on every request.

    A user row is kept at most AUTH_USER_CACHE_SECONDS (a minute by default, never longer than an access token
    lasts), and forgotten at once in the process that saves or deletes it. So a deactivated user, or one whose
    password changed (the token carries a hash of it: CHECK_REVOKE_TOKEN), loses access within that time in every
    process, and at once where the change was made. A cached row that would refuse the token is read again from
    the database before the token is refused: the row may be older than the token.
    """

    def get_user(self, validated_token):
        user_id = validated_token.get(jwt_settings.USER_ID_CLAIM)
        cache = caches[USERS_CACHE]
        user = cache.get(cached_user_key(user_id)) if user_id is not None else None
        if user is not None and self.still_accepted(user, validated_token):
            return user
        user = super().get_user(validated_token)  # the row, and simplejwt's refusals
        cache.set(cached_user_key(user_id), user)
        return user

    @staticmethod
    def still_accepted(user, validated_token) -> bool:
        """What simplejwt's get_user checks of a row, answered for a cached one."""
        if jwt_settings.CHECK_USER_IS_ACTIVE and not user.is_active:
            return False
        return not jwt_settings.CHECK_REVOKE_TOKEN or validated_token.get(
            jwt_settings.REVOKE_TOKEN_CLAIM
        ) == get_md5_hash_password(user.password)


@receiver(post_save, sender=settings.AUTH_USER_MODEL, dispatch_uid="forget_cached_user_on_save")
@receiver(post_delete, sender=settings.AUTH_USER_MODEL, dispatch_uid="forget_cached_user_on_delete")
def forget_cached_user(sender, instance, **kwargs) -> None:
    caches[USERS_CACHE].delete(cached_user_key(instance.pk))
