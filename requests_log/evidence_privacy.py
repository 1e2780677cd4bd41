"""What each image attached as evidence says about where, when and by whom it was taken
(imagemeta.read_metadata over the stored file), for the request page and the export
form. Evidence is never replaced, so the answer is cached by the file's SHA-256."""

from collections.abc import Iterable

from django.conf import settings
from django.core.cache import cache

from boundary.models import User

from . import access, imagemeta
from .models import Evidence

CACHE_SECONDS = 7 * 24 * 3600


def is_image(item: Evidence) -> bool:
    return item.content_type.startswith("image/")


def metadata_of(item: Evidence) -> imagemeta.ImageMetadata:
    """The image's metadata (empty for any other file or one that cannot be read)."""
    if not is_image(item) or item.size > settings.EVIDENCE_MAX_BYTES:
        return imagemeta.ImageMetadata()
    key = f"imagemeta:v1:{item.sha256}"
    found = cache.get(key)
    if isinstance(found, imagemeta.ImageMetadata):
        return found
    try:
        with item.file.open("rb") as source:
            data = source.read(settings.EVIDENCE_MAX_BYTES + 1)
    except OSError:
        return imagemeta.ImageMetadata()
    found = imagemeta.read_metadata(data)
    cache.set(key, found, CACHE_SECONDS)
    return found


def with_metadata(
    items: Iterable[Evidence],
) -> list[tuple[Evidence, imagemeta.ImageMetadata]]:
    return [(item, metadata_of(item)) for item in items]


def located_evidence(employee: User) -> list[tuple[Evidence, imagemeta.ImageMetadata]]:
    """Her evidence images that carry a GPS position, oldest first."""
    images = (
        Evidence.objects.filter(
            promotion_request__in=access.own_promotion_requests(employee).values("pk"),
            content_type__startswith="image/",
        )
        .select_related("promotion_request")
        .order_by("uploaded_at", "id")
    )
    return [(item, meta) for item, meta in with_metadata(images) if meta.gps]
