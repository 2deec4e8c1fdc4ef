"""App config: houses for sale and for rent, and their private images."""

from django.apps import AppConfig


class PropertyConfig(AppConfig):
    default_auto_field = "django.db.models.BigAutoField"
    name = "property"

    def ready(self) -> None:
        from backend.metrics import register_collector

        from . import signals  # noqa: F401 - connects the object clean-up receivers
        from .metrics import StateCollector

        register_collector(StateCollector())
