"""Houses for sale and for rent, the private photos attached to either, the links that share them, and the feed of
their changes: one module per concept, all importable from here."""

from .changes import Change, ChangedKind, ChangesPruned
from .houses import HOUSE_MODELS, House, HouseForRent, HouseForSale
from .images import (
    COVER_ORDER,
    DESCRIPTION_MAX_LENGTH,
    HOUSE_CONTENT_TYPES,
    IMAGES_PREFIX,
    MAX_ORDER,
    PROPERTY_KIND_BY_MODEL_NAME,
    VARIANT_COPIES,
    VARIANT_KEY_FIELDS,
    ImageCategory,
    OfferedSize,
    PropertyImage,
    VariantCopy,
    VariantsStatus,
    configured_variant_formats,
    cover_images,
    house_model_name,
    image_count,
    property_image_key,
    property_images_folder,
    property_kind_of,
    variant_entry_keys,
)
from .share_links import SHARE_LINK_LABEL_MAX_LENGTH, ShareLink
from .uploads import StagedUploadClaim

__all__ = [
    "COVER_ORDER",
    "DESCRIPTION_MAX_LENGTH",
    "HOUSE_CONTENT_TYPES",
    "HOUSE_MODELS",
    "IMAGES_PREFIX",
    "MAX_ORDER",
    "PROPERTY_KIND_BY_MODEL_NAME",
    "SHARE_LINK_LABEL_MAX_LENGTH",
    "VARIANT_COPIES",
    "VARIANT_KEY_FIELDS",
    "Change",
    "ChangedKind",
    "ChangesPruned",
    "House",
    "HouseForRent",
    "HouseForSale",
    "ImageCategory",
    "OfferedSize",
    "PropertyImage",
    "ShareLink",
    "StagedUploadClaim",
    "VariantCopy",
    "VariantsStatus",
    "configured_variant_formats",
    "cover_images",
    "house_model_name",
    "image_count",
    "property_image_key",
    "property_images_folder",
    "property_kind_of",
    "variant_entry_keys",
]
