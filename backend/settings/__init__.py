"""Settings for the ALCA Real Estate API, all from the environment (and `.env` for make run), by concern."""

from .api import *  # noqa: F403 - REST framework, JWT, cache, CORS, metrics, OpenAPI
from .base import *  # noqa: F403 - Django's own
from .storage import *  # noqa: F403 - S3, CloudFront, the images, the tasks
