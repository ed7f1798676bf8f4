"""Images in and out: decode user files into upright 8-bit RGB arrays (or fail with one
clear error), scale them for display, and encode PNG and JPEG."""

from __future__ import annotations

import io
import math
import re
import warnings
from dataclasses import dataclass
from pathlib import Path

import cv2
import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from pose_core.errors import ImageLoadError

SUPPORTED_EXTENSIONS: tuple[str, ...] = (".jpg", ".jpeg", ".png", ".webp", ".bmp", ".tif", ".tiff")
SUPPORTED_FORMATS = frozenset({"JPEG", "MPO", "PNG", "WEBP", "BMP", "TIFF"})  # MPO: phone JPEGs
# Decompression-bomb guard: a 48 MP phone photo passes, a crafted 30000x30000 PNG does not.
MAX_PIXELS = 50_000_000
MAX_BYTES = 100 * 1024 * 1024
_SIDEWAYS = (5, 6, 7, 8)  # EXIF orientations that turn the picture by 90 degrees


@dataclass(frozen=True)
class LoadedImage:
    rgb: np.ndarray  # (height, width, 3) uint8, EXIF orientation applied
    source_format: str  # PIL's format name, e.g. "JPEG"
    source_mode: str  # PIL's mode before conversion, e.g. "CMYK", "I;16", "P"
    exif_orientation: int  # 1 = upright already; 2..8 were rotated/flipped here
    original_size: tuple[int, int] = (0, 0)  # (width, height) upright at full resolution; (0, 0): as rgb

    def __post_init__(self) -> None:
        if self.original_size == (0, 0):
            object.__setattr__(self, "original_size", (self.width, self.height))

    @property
    def reduced(self) -> bool:
        """True when ``rgb`` was decoded smaller than the file's full resolution."""
        return self.original_size != (self.width, self.height)

    @property
    def width(self) -> int:
        return int(self.rgb.shape[1])

    @property
    def height(self) -> int:
        return int(self.rgb.shape[0])


def load_image(
    source: bytes | str | Path, *, max_pixels: int = MAX_PIXELS, max_decode_pixels: int | None = None
) -> LoadedImage:
    """Read bytes or a path: JPEG, PNG, WebP, BMP, TIFF. Raises :class:`ImageLoadError`.

    ``max_decode_pixels``: decode larger images smaller, to at most this many pixels
    (a shared server need not hold a 48 MP photo at full size: the model looks at a few
    hundred pixels of each person). JPEGs are decoded at 1/2, 1/4 or 1/8 scale directly
    by the decoder, which never builds the full-size picture; other formats are decoded
    and then scaled. ``original_size`` keeps the full size.
    """
    if isinstance(source, (str, Path)):
        path = Path(source)
        try:
            data = path.read_bytes()
        except IsADirectoryError:
            raise ImageLoadError(f"{path} is a folder, not an image") from None
        except OSError as exc:
            raise ImageLoadError(f"cannot read {path}: {exc.strerror or exc}") from None
    else:
        data = bytes(source)
    if not data:
        raise ImageLoadError("the file is empty (0 bytes); upload the image again")
    if len(data) > MAX_BYTES:
        raise ImageLoadError(f"the file is {len(data) / 2**20:.0f} MB; the limit is {MAX_BYTES // 2**20} MB")
    try:
        with warnings.catch_warnings():
            # Our own pixel cap below replaces PIL's bomb warning with a clear error.
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            image = Image.open(io.BytesIO(data))
            _check_header(image, max_pixels)
            source_format = str(image.format)
            orientation = int(image.getexif().get(0x0112, 1) or 1)
            full_size = image.size[::-1] if orientation in _SIDEWAYS else image.size
            if max_decode_pixels and image.width * image.height > max_decode_pixels:
                # JPEG only: decode at the largest 1/2^k scale that fits, which the decoder
                # does without ever building the full-size picture (24 MP -> 6 MP).
                shrink = 2 ** math.ceil(math.log2(math.sqrt(image.width * image.height / max_decode_pixels)))
                image.draft(None, (math.ceil(image.width / shrink), math.ceil(image.height / shrink)))
            image.load()
            source_mode = image.mode
            if orientation != 1:  # exif_transpose copies even upright images; skip that on 12 MP
                image = ImageOps.exif_transpose(image) or image
            rgb = _to_rgb(image)
            if max_decode_pixels and rgb.shape[0] * rgb.shape[1] > max_decode_pixels:
                rgb = fit_within(rgb, math.floor(max(rgb.shape[:2]) / math.sqrt(rgb.size / 3 / max_decode_pixels)))
    except ImageLoadError:
        raise
    except UnidentifiedImageError:
        raise ImageLoadError("this is not an image PoseLab can read; use JPEG, PNG, WebP, BMP or TIFF") from None
    except Image.DecompressionBombError as exc:
        # PIL refuses far-too-large images itself, before we see their size.
        found = re.search(r"\((\d+) pixels\)", str(exc))
        size = f" ({int(found.group(1)) / 1e6:.0f} MP)" if found else ""
        raise ImageLoadError(
            f"the image has too many pixels{size}; the limit is {max_pixels / 1e6:.0f} MP, so scale it down first"
        ) from None
    except (OSError, SyntaxError, ValueError, EOFError) as exc:
        # PIL reports truncated or corrupt data as OSError/SyntaxError/ValueError.
        raise ImageLoadError(f"the image data is corrupt or truncated ({exc}); export it again") from None
    return LoadedImage(
        rgb=rgb,
        source_format=source_format,
        source_mode=source_mode,
        exif_orientation=orientation,
        original_size=(int(full_size[0]), int(full_size[1])),
    )


def peek_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) from the header alone (nothing decoded), or None if unreadable."""
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            with Image.open(io.BytesIO(data)) as image:
                return int(image.width), int(image.height)
    except (OSError, SyntaxError, ValueError, EOFError, Image.DecompressionBombError):
        return None


def _check_header(image: Image.Image, max_pixels: int) -> None:
    if image.format not in SUPPORTED_FORMATS:
        raise ImageLoadError(f"{image.format} images are not supported; use JPEG, PNG, WebP, BMP or TIFF")
    width, height = image.size
    if width < 1 or height < 1:
        raise ImageLoadError("the image has no pixels")
    if width * height > max_pixels:
        raise ImageLoadError(
            f"the image is {width}x{height} ({width * height / 1e6:.0f} MP); the limit is "
            f"{max_pixels / 1e6:.0f} MP, so scale it down first"
        )


def _to_rgb(image: Image.Image) -> np.ndarray:
    """Normalise every colour mode to (H, W, 3) uint8 RGB."""
    mode = image.mode
    if mode == "RGB":
        return np.asarray(image)
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I"):
        # 16/32-bit greyscale: scale the real range to 8 bits (PIL's convert would clip).
        grey = np.asarray(image).astype(np.float64)
        top = 65535.0 if mode.startswith("I;16") else max(float(grey.max()), 1.0)
        grey8 = np.clip(grey * (255.0 / top), 0, 255).round().astype(np.uint8)
        return np.repeat(grey8[:, :, None], 3, axis=2)
    if mode == "F":
        grey = np.asarray(image, dtype=np.float64)
        top = 1.0 if grey.max() <= 1.0 else 255.0
        grey8 = np.clip(grey * (255.0 / top), 0, 255).round().astype(np.uint8)
        return np.repeat(grey8[:, :, None], 3, axis=2)
    if mode in ("RGBA", "LA", "PA") or (mode == "P" and "transparency" in image.info):
        # Transparent pixels become white, as a viewer would show them on a page.
        rgba = image.convert("RGBA")
        background = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return np.asarray(Image.alpha_composite(background, rgba).convert("RGB"))
    return np.asarray(image.convert("RGB"))  # L, 1, P, CMYK, YCbCr, LAB, HSV


def fit_within(rgb: np.ndarray, max_side: int) -> np.ndarray:
    """``rgb`` (H, W, 3) scaled down (area averaging) so its long side is at most
    ``max_side``; returned as it is when it already fits."""
    height, width = rgb.shape[:2]
    scale = max_side / max(height, width)
    if scale >= 1:
        return rgb
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def encode_png(rgb: np.ndarray) -> bytes:
    """(H, W, 3) uint8 RGB as PNG bytes.

    NOTE: OpenCV's encoder at compression 3 takes ~0.1 s on 12 MP; PIL's default takes
    seconds, which would stall a download or a batch.
    """
    ok, encoded = cv2.imencode(".png", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_PNG_COMPRESSION, 3])
    if not ok:
        raise ValueError(f"could not encode an image of shape {rgb.shape} as PNG")
    return encoded.tobytes()


def encode_jpeg(rgb: np.ndarray, quality: int = 85) -> bytes:
    """(H, W, 3) uint8 RGB as JPEG bytes (compact previews)."""
    ok, encoded = cv2.imencode(".jpg", cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR), [cv2.IMWRITE_JPEG_QUALITY, quality])
    if not ok:
        raise ValueError(f"could not encode an image of shape {rgb.shape} as JPEG")
    return encoded.tobytes()


def decode_preview(data: bytes) -> np.ndarray:
    """JPEG or PNG bytes that PoseLab encoded itself, back to (H, W, 3) uint8 RGB."""
    bgr = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_COLOR)
    if bgr is None:
        raise ValueError("not an image PoseLab encoded")
    return cv2.cvtColor(bgr, cv2.COLOR_BGR2RGB)
