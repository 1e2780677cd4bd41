"""requests_log.imagemeta: what a photo says about where, when and by whom, and a copy
that says nothing."""

import hashlib
import io

from PIL import ExifTags, Image, PngImagePlugin

from requests_log.imagemeta import read_metadata, stripped_copy

# 48.8584 N, 2.2945 E (the Eiffel Tower), as degrees, minutes and seconds.
LAT = (48.0, 51.0, 30.24)
LON = (2.0, 17.0, 40.2)


def gps_jpeg(*, orientation: int = 1, size: tuple[int, int] = (40, 20)) -> bytes:
    """A real JPEG with EXIF written by Pillow: camera, software, owner, time and GPS."""
    image = Image.new("RGB", size, (200, 30, 30))
    image.paste((30, 30, 200), (0, 0, size[0] // 2, size[1]))  # left half blue
    exif = Image.Exif()
    exif[0x010F] = "Canon"
    exif[0x0110] = "Canon EOS 80D"
    exif[0x0131] = "Photos 9.0"
    exif[0x013B] = "Maya Cohen"
    exif[0x0112] = orientation
    exif.get_ifd(ExifTags.IFD.Exif)[0x9003] = "2026:11:02 09:14:03"
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[1], gps[2], gps[3], gps[4] = "N", LAT, "E", LON
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif, quality=90)
    return out.getvalue()


def text_png() -> bytes:
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Maya Cohen")
    info.add_itxt("Comment", "taken at the office, 4th floor")
    out = io.BytesIO()
    Image.new("RGBA", (8, 8), (0, 128, 0, 255)).save(out, format="PNG", pnginfo=info)
    return out.getvalue()


def test_reads_gps_camera_time_software_and_owner_from_a_jpeg():
    meta = read_metadata(gps_jpeg())
    assert meta.readable
    assert meta.has_metadata
    assert meta.gps is not None
    assert abs(meta.gps[0] - 48.8584) < 1e-4
    assert abs(meta.gps[1] - 2.2945) < 1e-4
    assert meta.camera == "Canon EOS 80D"
    assert meta.taken_at == "2026-11-02 09:14:03"
    assert meta.software == "Photos 9.0"
    assert "Maya Cohen" in meta.owner
    text = meta.describe()
    assert text.startswith("This photo carries its GPS position (48.85840, 2.29450)")
    assert "the camera model (Canon EOS 80D)" in text


def test_south_and_west_are_negative():
    image = Image.new("RGB", (4, 4))
    exif = Image.Exif()
    gps = exif.get_ifd(ExifTags.IFD.GPSInfo)
    gps[1], gps[2], gps[3], gps[4] = "S", (33.0, 52.0, 0.0), "W", (70.0, 0.0, 0.0)
    out = io.BytesIO()
    image.save(out, format="JPEG", exif=exif)
    meta = read_metadata(out.getvalue())
    assert meta.gps is not None
    assert meta.gps[0] < 0
    assert meta.gps[1] == -70.0


def test_png_text_chunks_are_metadata():
    meta = read_metadata(text_png())
    assert meta.readable
    assert meta.gps is None
    assert meta.text == {"Author": "Maya Cohen", "Comment": "taken at the office, 4th floor"}
    assert "text fields (Author, Comment)" in meta.describe()


def test_a_plain_image_has_no_metadata():
    out = io.BytesIO()
    Image.new("RGB", (4, 4)).save(out, format="PNG")
    meta = read_metadata(out.getvalue())
    assert meta.readable
    assert not meta.has_metadata
    assert meta.describe() == ""


def test_broken_images_never_raise():
    jpeg = gps_jpeg()
    for data in (
        b"",
        b"not an image at all",
        jpeg[:200],  # cut inside the EXIF
        jpeg[:2] + b"\xff" * 50,
        jpeg.replace(b"Exif\x00\x00", b"Exif\x00\x00\xff\xff\xff\xff", 1),
        b"\x89PNG\r\n\x1a\n" + b"\x00" * 40,
    ):
        meta = read_metadata(data)
        assert not meta.has_metadata or meta.readable
        stripped_copy(data)  # None or a copy, never an exception
    assert read_metadata(b"garbage").readable is False
    assert stripped_copy(b"garbage") is None


def test_stripped_copy_has_no_metadata_and_its_own_hash():
    original = gps_jpeg()
    copy = stripped_copy(original)
    assert copy is not None
    assert copy.extension == "jpg"
    assert hashlib.sha256(copy.data).digest() != hashlib.sha256(original).digest()
    assert not read_metadata(copy.data).has_metadata
    with Image.open(io.BytesIO(copy.data)) as image:
        assert len(image.getexif()) == 0
        assert "exif" not in image.info
        assert "xmp" not in image.info
        assert image.size == (40, 20)


def test_stripped_copy_applies_the_orientation():
    # Orientation 6: turn 90° clockwise to display, so the copy is 20 wide, 40 high,
    # with the (blue) left half on top.
    copy = stripped_copy(gps_jpeg(orientation=6))
    assert copy is not None
    with Image.open(io.BytesIO(copy.data)) as image:
        assert image.size == (20, 40)
        red, _green, blue = image.convert("RGB").getpixel((10, 5))
        assert blue > red


def test_stripped_png_loses_its_text_chunks():
    copy = stripped_copy(text_png())
    assert copy is not None
    assert copy.extension == "png"
    assert not read_metadata(copy.data).has_metadata


def test_every_flipped_byte_of_the_header_and_every_cut_never_raises():
    jpeg, png = gps_jpeg(), text_png()
    for data in (jpeg, png):
        head = min(len(data), 600)  # the headers, EXIF and text chunks
        for position in range(head):
            flipped = bytearray(data)
            flipped[position] ^= 0xFF
            read_metadata(bytes(flipped))
            read_metadata(data[:position])
        for position in range(0, head, 25):
            flipped = bytearray(data)
            flipped[position] ^= 0xFF
            stripped_copy(bytes(flipped))
