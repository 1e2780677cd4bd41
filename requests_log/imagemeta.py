"""What an image file says about where, when and by whom it was taken, and a copy of it
that says nothing: pure functions over bytes, with Pillow.

`read_metadata` never raises on what a person uploads (a broken, truncated or hostile
file reads as "no metadata found", with `readable` False); `stripped_copy` returns None
for a file it cannot re-encode."""

import io
import warnings
from dataclasses import dataclass, field
from typing import Any

from PIL import ExifTags, Image, ImageOps

# Larger images are refused rather than decoded (Pillow's own bomb guard is twice this).
MAX_PIXELS = 80_000_000

# Base IFD (TIFF) tags.
_MAKE, _MODEL, _SOFTWARE, _DATETIME, _ARTIST, _COPYRIGHT = (
    0x010F,
    0x0110,
    0x0131,
    0x0132,
    0x013B,
    0x8298,
)
# Exif IFD tags.
_DATETIME_ORIGINAL, _OWNER, _SERIAL, _LENS = 0x9003, 0xA430, 0xA431, 0xA434
# GPS IFD tags.
_LAT_REF, _LAT, _LON_REF, _LON = 1, 2, 3, 4

# Text chunks (PNG tEXt/iTXt, GIF comments…) that are about the image's maker.
_TEXT_SKIP = {"dpi", "gamma", "transparency", "aspect", "interlace", "progressive",
              "progression", "jfif", "jfif_version", "jfif_unit", "jfif_density",
              "adobe", "adobe_transform", "icc_profile", "exif", "duration", "loop",
              "background", "version", "srgb", "chromaticity", "mp", "mpoffset",
              "compression", "photoshop", "xmp", "xml:com.adobe.xmp", "dpi_float",
              "srgb_intent"}  # fmt: skip


@dataclass(frozen=True)
class ImageMetadata:
    """The metadata of an image that matters for privacy. Empty when none was found."""

    readable: bool = False
    gps: tuple[float, float] | None = None
    make: str = ""
    model: str = ""
    taken_at: str = ""
    software: str = ""
    owner: str = ""  # Artist, Copyright, camera owner and serial number, joined
    text: dict[str, str] = field(default_factory=dict)  # other text chunks (PNG, XMP…)

    @property
    def camera(self) -> str:
        make, model = self.make, self.model
        if make and model.lower().startswith(make.lower()):
            return model
        return " ".join(part for part in (make, model) if part)

    @property
    def has_metadata(self) -> bool:
        return bool(
            self.gps or self.camera or self.taken_at or self.software or self.owner or self.text
        )

    def findings(self) -> list[str]:
        """One phrase per kind of metadata found, for "This photo carries …"."""
        found = []
        if self.gps:
            found.append(f"its GPS position ({self.gps[0]:.5f}, {self.gps[1]:.5f})")
        if self.camera:
            found.append(f"the camera model ({self.camera})")
        if self.taken_at:
            found.append(f"the time it was taken ({self.taken_at})")
        if self.software:
            found.append(f"the software that made it ({self.software})")
        if self.owner:
            found.append(f"the name of its owner or author ({self.owner})")
        if self.text:
            found.append("text fields (" + ", ".join(sorted(self.text)) + ")")
        return found

    def describe(self) -> str:
        found = self.findings()
        if not found:
            return ""
        listing = found[0] if len(found) == 1 else ", ".join(found[:-1]) + " and " + found[-1]
        return f"This photo carries {listing}."


def _text(value: Any, limit: int = 120) -> str:
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    if not isinstance(value, str):
        return ""
    cleaned = "".join(ch if ch.isprintable() else " " for ch in value).strip(" \x00")
    return " ".join(cleaned.split())[:limit]


def _degrees(value: Any, ref: Any) -> float | None:
    try:
        parts = [float(part) for part in value]
        if len(parts) != 3:
            return None
        degrees = parts[0] + parts[1] / 60 + parts[2] / 3600
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    if degrees != degrees or degrees in (float("inf"), float("-inf")):  # NaN, infinity
        return None
    if _text(ref).upper() in ("S", "W"):
        degrees = -degrees
    return degrees


def _when(text: str) -> str:
    """EXIF's "YYYY:MM:DD HH:MM:SS" as "YYYY-MM-DD HH:MM:SS"; any other text as it is."""
    if len(text) >= 10 and text[4] == ":" and text[7] == ":":
        return f"{text[:4]}-{text[5:7]}-{text[8:]}"
    return text


def _gps(gps: Any) -> tuple[float, float] | None:
    if not gps:
        return None
    lat = _degrees(gps.get(_LAT), gps.get(_LAT_REF))
    lon = _degrees(gps.get(_LON), gps.get(_LON_REF))
    if lat is None or lon is None or not (-90 <= lat <= 90 and -180 <= lon <= 180):
        return None
    return (round(lat, 6), round(lon, 6))


def _open(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    width, height = image.size
    if width * height > MAX_PIXELS:
        raise ValueError("image too large")
    return image


def read_metadata(data: bytes) -> ImageMetadata:
    """The privacy-relevant metadata of the image in `data`; never raises."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _read(data)
    except Exception:
        return ImageMetadata()


def _read(data: bytes) -> ImageMetadata:
    with _open(data) as image:
        exif = image.getexif()
        try:
            details = exif.get_ifd(ExifTags.IFD.Exif)
        except Exception:
            details = {}
        try:
            gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
        except Exception:
            gps = {}
        owners = [
            _text(value)
            for value in (
                exif.get(_ARTIST),
                exif.get(_COPYRIGHT),
                details.get(_OWNER),
                details.get(_SERIAL) and f"serial {_text(details.get(_SERIAL))}",
            )
        ]
        text = {}
        for key, value in (image.info or {}).items():
            name = _text(key, 40)
            if not name or name.lower() in _TEXT_SKIP:
                continue
            if isinstance(value, str | bytes) and _text(value):
                text[name] = _text(value)
        xmp = image.info.get("xmp") or image.info.get("XML:com.adobe.xmp")
        if xmp:
            text["XMP"] = "present"
        return ImageMetadata(
            readable=True,
            gps=_gps(gps),
            make=_text(exif.get(_MAKE)),
            model=_text(exif.get(_MODEL)),
            taken_at=_when(_text(details.get(_DATETIME_ORIGINAL) or exif.get(_DATETIME))),
            software=_text(exif.get(_SOFTWARE)),
            owner="; ".join(part for part in owners if part),
            text=text,
        )


@dataclass(frozen=True)
class Stripped:
    data: bytes
    extension: str  # "jpg" or "png"
    content_type: str


def stripped_copy(data: bytes) -> Stripped | None:
    """The image re-encoded from its pixels alone, turned as its EXIF orientation says:
    no EXIF, GPS, XMP, ICC profile or text chunk. JPEG stays JPEG (quality 95), anything
    else becomes PNG. None if the file cannot be read as an image."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return _strip(data)
    except Exception:
        return None


def _strip(data: bytes) -> Stripped:
    with _open(data) as image:
        as_jpeg = image.format in ("JPEG", "MPO")
        image.seek(0)
        turned = ImageOps.exif_transpose(image) or image
        turned.load()
        if as_jpeg:
            mode = "L" if turned.mode in ("L", "1") else "RGB"
        elif turned.mode in ("RGB", "L"):
            mode = turned.mode
        else:
            mode = "RGBA"
        pixels = turned.convert(mode) if turned.mode != mode else turned
        # A new image from the raw pixels: nothing of the original's `info` comes along.
        clean = Image.frombytes(mode, pixels.size, pixels.tobytes())
    out = io.BytesIO()
    if as_jpeg:
        clean.save(out, format="JPEG", quality=95, optimize=True)
        return Stripped(out.getvalue(), "jpg", "image/jpeg")
    clean.save(out, format="PNG", optimize=True)
    return Stripped(out.getvalue(), "png", "image/png")
