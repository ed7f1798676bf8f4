"""Image loading: every format, EXIF orientation and colour mode in; upright RGB out;
anything unreadable out as one clear ImageLoadError."""

import io
import struct
import zlib

import cv2
import numpy as np
import pytest
from PIL import Image

from pose_core.images import ImageLoadError, load_image
from tests.helpers import encode

# For EXIF orientation n, the transform that turns the upright picture into the stored one.
STORED_FROM_UPRIGHT = {
    1: None,
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_90,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_270,
}


def phone_jpeg(upright: np.ndarray, orientation: int) -> bytes:
    """A JPEG as a phone writes it: pixels stored sideways, an EXIF tag saying how to turn them."""
    image = Image.fromarray(upright)
    if STORED_FROM_UPRIGHT[orientation] is not None:
        image = image.transpose(STORED_FROM_UPRIGHT[orientation])
    exif = Image.Exif()
    exif[0x0112] = orientation
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=95, exif=exif.tobytes())
    return buf.getvalue()


@pytest.fixture(scope="module")
def upright_nose(astronaut_rgb, estimator):
    (pose,) = estimator.detect(astronaut_rgb)
    return pose.landmarks[0, :2]


@pytest.mark.parametrize("orientation", range(1, 9))
def test_exif_orientation_is_applied_so_the_pose_is_found_upright(orientation, astronaut_rgb, estimator, upright_nose):
    wide = astronaut_rgb[:, :400]  # not square, so a missed rotation changes the shape
    loaded = load_image(phone_jpeg(wide, orientation))
    assert loaded.exif_orientation == orientation
    assert loaded.rgb.shape == wide.shape
    assert np.abs(loaded.rgb.astype(int) - wide).mean() < 3  # only JPEG noise
    (pose,) = estimator.detect(loaded.rgb)
    nose_px = pose.landmarks_px[0]
    assert np.allclose(nose_px, upright_nose * 512, atol=6)


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP", "BMP", "TIFF"])
def test_every_supported_format_loads_and_finds_the_person(fmt, astronaut_rgb, estimator):
    loaded = load_image(encode(astronaut_rgb, fmt))
    assert loaded.source_format == fmt and loaded.rgb.shape == (512, 512, 3) and loaded.rgb.dtype == np.uint8
    assert len(estimator.detect(loaded.rgb)) == 1


def _modes(rgb: np.ndarray) -> dict[str, bytes]:
    base = Image.fromarray(rgb)
    grey16 = (np.asarray(base.convert("L")).astype(np.uint16) * 257).astype(np.uint16)
    rgba = base.convert("RGBA")
    return {
        "L": encode(np.asarray(base.convert("L")), "PNG"),
        "LA": _save(base.convert("LA"), "PNG"),
        "P": _save(base.convert("P", palette=Image.Palette.ADAPTIVE), "PNG"),
        "RGBA": _save(rgba, "PNG"),
        "I;16": _save(Image.fromarray(grey16), "PNG"),
        "CMYK": _save(base.convert("CMYK"), "JPEG"),
        "1": _save(base.convert("1"), "PNG"),
        "RGB 16-bit": cv2.imencode(".png", (rgb[:, :, ::-1].astype(np.uint16) * 257))[1].tobytes(),
        "F": _save(Image.fromarray(np.asarray(base.convert("L"), np.float32) / 255.0), "TIFF"),
    }


def _save(image: Image.Image, fmt: str) -> bytes:
    buf = io.BytesIO()
    image.save(buf, fmt)
    return buf.getvalue()


@pytest.mark.parametrize("mode", ["L", "LA", "P", "RGBA", "I;16", "CMYK", "1", "RGB 16-bit", "F"])
def test_every_colour_mode_becomes_8_bit_rgb_and_keeps_the_person(mode, astronaut_rgb, estimator):
    loaded = load_image(_modes(astronaut_rgb)[mode])
    assert loaded.rgb.shape == (512, 512, 3) and loaded.rgb.dtype == np.uint8
    grey = np.asarray(Image.fromarray(astronaut_rgb).convert("L")).astype(int)
    if mode in ("L", "LA", "I;16", "F"):  # grey modes keep their brightness, not clipped or scaled away
        assert np.abs(loaded.rgb[:, :, 0].astype(int) - grey).mean() < 1.5
    if mode != "1":  # a 1-bit dither is not a photo any more
        assert len(estimator.detect(loaded.rgb)) == 1


def test_transparent_pixels_become_white():
    rgba = np.zeros((4, 4, 4), np.uint8)
    rgba[..., 0] = 200
    rgba[:2, :, 3] = 255  # top half opaque red-ish, bottom half fully transparent
    loaded = load_image(_save(Image.fromarray(rgba, "RGBA"), "PNG"))
    assert loaded.rgb[0, 0].tolist() == [200, 0, 0]
    assert loaded.rgb[3, 3].tolist() == [255, 255, 255]


def test_sixteen_bit_grey_is_scaled_not_clipped():
    grey16 = np.array([[0, 32896, 65535]], np.uint16)
    loaded = load_image(_save(Image.fromarray(grey16), "PNG"))
    assert loaded.rgb[0, :, 0].tolist() == [0, 128, 255]


def _png_header_only(width: int, height: int) -> bytes:
    def chunk(kind: bytes, body: bytes) -> bytes:
        return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\0" * 64)) + chunk(b"IEND", b"")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"", "empty"),
        (b"this is a text file, not a photo\n", "not an image"),
        (b"%PDF-1.7\n1 0 obj\n<<>>\nendobj\n", "not an image"),
        (_save(Image.new("RGB", (8, 8)), "GIF"), "GIF images are not supported"),
        (_png_header_only(60_000, 60_000), "3600 MP"),  # a decompression bomb, refused before decoding
        (_png_header_only(640, 480), "corrupt"),  # header fine, pixel data missing
    ],
    ids=["empty", "text", "pdf", "gif", "huge", "no-pixel-data"],
)
def test_unreadable_input_raises_one_clear_error(data, message):
    with pytest.raises(ImageLoadError, match=message):
        load_image(data)


def test_a_truncated_jpeg_is_reported_as_corrupt(astronaut_rgb):
    jpeg = encode(astronaut_rgb)
    with pytest.raises(ImageLoadError, match="corrupt or truncated"):
        load_image(jpeg[: len(jpeg) // 2])


def test_paths_load_and_bad_paths_say_what_is_wrong(tmp_path, astronaut_rgb):
    (tmp_path / "a.png").write_bytes(encode(astronaut_rgb, "PNG"))
    assert load_image(tmp_path / "a.png").width == 512
    assert load_image(str(tmp_path / "a.png")).height == 512
    with pytest.raises(ImageLoadError, match="cannot read"):
        load_image(tmp_path / "missing.jpg")
    with pytest.raises(ImageLoadError, match="is a folder"):
        load_image(tmp_path)
