"""Direct uploads' claims on their staging keys."""

from django.db import models

from .images import PropertyImage


class StagedUploadClaim(models.Model):
    """A direct upload's staging key, claimed by the request that completes it.

    The unique key lets one request at a time complete an upload, so a double click cannot store the same
    photo twice. Once stored, `image` is kept for a day, so a client that retries after losing the answer
    gets the same image back instead of an error.
    """

    key = models.CharField(max_length=100, unique=True)
    # Empty while the photo is being stored; the claim goes with its image.
    image = models.ForeignKey(PropertyImage, null=True, blank=True, on_delete=models.CASCADE, related_name="+")
    claimed_at = models.DateTimeField(auto_now_add=True, db_index=True)

    def __str__(self) -> str:
        return self.key
