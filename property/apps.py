"""App config: houses for sale and for rent, and their private images."""

from django.apps import AppConfig


class PropertyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "property"

    def ready(self) -> None:
        from backend.memory import return_large_allocations_to_the_os

        from . import signals  # noqa: F401 - connects the object clean-up receivers

        return_large_allocations_to_the_os()
