"""Every image a student sends, decoded within bounds: the one way in for uploads and drawings.

``open_image(data, mode, limits, need)`` is the entry point for raw bytes (an upload, the CLI's
file). It refuses, each with its own message (an ``UploadError``), in this order and before a
single pixel is decoded: no bytes, more bytes than ``limits.max_bytes``, a format other than PNG
or JPEG (from the magic bytes, then Pillow's header parser restricted to those two: never the
file name), a header whose size breaks the caps (total pixels, long side, aspect ratio); then a
stream that does not decode (``verify()``'s chunk CRCs, a truncated file). What comes back is an
8-bit ``mode`` ("L"/"RGB") picture, upright (EXIF orientation), transparency flattened onto white,
16-bit depth scaled (not clipped), and already shrunk so that its short side is at most
``2 * need``: everything after the decode works on a small picture.

``drawing_image(url)`` is the entry point for the drawing canvas, whose value is a
``data:image/png;base64,...`` URL: refused by its prefix and by its length before base64 is
decoded, then the same checks as an upload (``DRAWING``'s tighter limits), then the strokes'
brightness times their opacity as one grey channel (None when nothing is drawn).

``fit(img, size, how)`` turns such a picture into the network's ``size``, letterboxed (centred on
a canvas of its background level) or cropped, inverted when it is dark on light; the resize
comes first, so the canvas is allocated at the target size, never at the source's long side
squared (a 65,536 × 256 picture once cost 4.6 GB that way).

Decisions: an animated PNG gives its first frame (the image its header declares; later frames are
never decoded), as does a multi-picture JPEG (MPO, what some phones save); GIF, WebP, BMP, TIFF
and the rest are refused by format. A JPEG is decoded at a reduced scale (``draft``) where the
target allows. Memory: an allowed PNG at the pixel cap costs its decoded size (at most 4 bytes a
pixel, RGBA) plus one 1-3 bytes a pixel flattened copy; nothing is ever float64 at full size.

This module needs Pillow and numpy, never torch: a test measures its memory in a bare process.
"""

from __future__ import annotations

import base64
import binascii
import io
import math
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from cnnviz.errors import CnnvizError

if TYPE_CHECKING:
    from PIL import Image as PILImage

# --- the limits, all in one place ---------------------------------------------------------------
# Uploads: a 28×28 to 224×224 network input never needs more than a few hundred pixels a side; the
# caps are there for a photo or a screenshot to fit while a hostile file cannot cost the server
# more than ~100 MB for a moment (RGBA PNG at the pixel cap: 4 B decoded + 3 B flattened a pixel).
MAX_UPLOAD_BYTES = 5 * 1024 * 1024  # 5 MiB: a 12 MP phone JPEG is 2-4 MB
MAX_UPLOAD_PIXELS = 4096 * 3072  # 12.6 M pixels: a 12 MP phone photo (4032×3024) fits
MAX_UPLOAD_SIDE = 4096  # the long side: a 4K screenshot (3840 wide) fits
MAX_ASPECT = 8  # long side : short side. Past 8:1 a letterboxed 28×28 input keeps < 4 px of picture
# The canvas sends a PNG of its own size (280×280, ``ui.results.CANVAS_PX``; the component renders
# with multiplier 1, no retina scaling): anything far larger is forged. 1,024 leaves room for a
# bigger canvas; a drawing's strokes compress to tens of KB, so 1 MiB is ample even for noise.
MAX_DRAWING_BYTES = 1024 * 1024
MAX_DRAWING_SIDE = 1024
DATA_URL_PREFIX = "data:image/png;base64,"  # what the canvas sends (fabric's toDataURL, format png)
ALLOWED_FORMATS = ("PNG", "JPEG")  # what Pillow is allowed to parse; "MPO" is JPEG's multi-picture form
_MAGIC = {b"\x89PNG\r\n\x1a\n": "PNG", b"\xff\xd8\xff": "JPEG"}


@dataclass(frozen=True)
class ImageLimits:
    """What one kind of image may be: bytes before opening, then its header's size."""

    max_bytes: int
    max_pixels: int
    max_side: int
    max_aspect: int = MAX_ASPECT

    @property
    def max_data_url_chars(self) -> int:
        """The longest data URL whose base64 payload can decode to at most ``max_bytes``."""
        return len(DATA_URL_PREFIX) + 4 * math.ceil(self.max_bytes / 3)


UPLOAD = ImageLimits(MAX_UPLOAD_BYTES, MAX_UPLOAD_PIXELS, MAX_UPLOAD_SIDE)
DRAWING = ImageLimits(MAX_DRAWING_BYTES, MAX_DRAWING_SIDE * MAX_DRAWING_SIDE, MAX_DRAWING_SIDE)
BORDER_DARK = 128  # a border brighter than this (mean of 0..255) is a light background: the image is inverted
FITS = ("letterbox", "crop")


class UploadError(CnnvizError):
    """An image (upload or drawing) that is not a small, intact PNG or JPEG."""


# --- the entry points -----------------------------------------------------------------------------
def open_image(data: bytes, mode: str = "L", limits: ImageLimits = UPLOAD,
               need: int | None = None) -> PILImage.Image:
    """``data`` (PNG/JPEG bytes) checked, decoded and normalised: an 8-bit ``mode`` image.

    ``mode`` is "L" or "RGB". ``need`` is the largest side the caller will resize to (the
    network's input): the picture comes back with its short side at most ``2 * need`` (a JPEG
    is decoded at that reduced scale), or at full size when ``need`` is None. Every refusal is
    an ``UploadError`` (see the module's docstring for the order of the checks).
    """
    if mode not in ("L", "RGB"):
        raise ValueError(f"mode must be 'L' or 'RGB', got {mode!r}")  # a programming error, not the user's
    keep = 2 * int(need) if need is not None else None
    img = _decode(data, limits, draft=None if keep is None else (mode, keep))
    return _normalise(img, mode, keep)


def drawing_image(url: str | None, limits: ImageLimits = DRAWING) -> PILImage.Image | None:
    """The canvas's data URL as a grey ("L") picture of light strokes on black, or None when
    nothing is drawn (no URL, or every pixel dark or transparent).

    The URL's prefix must be ``DATA_URL_PREFIX`` and its length at most
    ``limits.max_data_url_chars`` before base64 is decoded (strictly: a stray character is
    refused); the PNG inside then goes through ``open_image``'s checks with ``limits``.
    """
    if url is None:
        return None
    if not isinstance(url, str) or not url.startswith(DATA_URL_PREFIX):
        raise UploadError("err.drawing.unreadable")
    if len(url) > limits.max_data_url_chars:  # before a byte is decoded
        raise UploadError("err.drawing.too_large", kb=math.ceil(len(url) * 3 / 4 / 1024),
                          cap=limits.max_bytes // 1024)
    try:
        raw = base64.b64decode(url[len(DATA_URL_PREFIX):], validate=True)
    except (binascii.Error, ValueError):
        raise UploadError("err.drawing.unreadable") from None
    img = _decode(raw, limits, draft=None)
    return strokes(img)


def strokes(img) -> PILImage.Image | None:
    """A drawing (a PIL image or an ``H x W x 3|4`` uint8 array) as one grey channel: the strokes'
    brightness (mean of R, G, B) times their opacity, so white strokes on black or on a transparent
    background both give light on dark, as the datasets are. None when it is blank (all zero,
    whatever the component puts in the colour channels of transparent pixels)."""
    from PIL import Image

    if isinstance(img, Image.Image):
        if img.mode not in ("RGB", "RGBA"):
            img = img.convert("RGBA" if img.mode in ("LA", "PA", "P", "La") else "RGB")
        a = np.asarray(img)  # H x W x 3|4 uint8, at the drawing's own (bounded) size
    else:
        a = np.asarray(img)
        if a.ndim != 3 or a.shape[2] not in (3, 4) or a.dtype != np.uint8:
            return None
        if a.shape[0] * a.shape[1] > DRAWING.max_pixels:
            raise UploadError("err.upload.too_many_pixels", w=a.shape[1], h=a.shape[0], cap=DRAWING.max_pixels)
    # integers at the drawing's size (uint32: 765 * 255 fits), never float64: sum of the three
    # channels times alpha over 3 * 255, rounded half up
    grey = a[..., :3].sum(axis=2, dtype=np.uint32)  # H x W in [0, 765]
    if a.shape[2] == 4:
        grey = (grey * a[..., 3] * 2 + 765) // (2 * 765)
    else:
        grey = (grey * 2 + 3) // 6
    if not grey.any():
        return None
    return Image.fromarray(grey.astype(np.uint8), "L")


@dataclass(frozen=True)
class FitResult:
    """A picture at the network's size, and what was done to it."""

    image: PILImage.Image  # size (W, H) = the target's, mode as given
    shape: str  # "square" | "letterboxed" | "cropped"
    inverted: bool  # dark on light, inverted (the datasets are light on dark)


def fit(img, size: tuple[int, int], how: str = "letterbox") -> FitResult:
    """``img`` (8-bit "L" or "RGB", small: ``open_image``'s) as a picture of ``size`` (H, W).

    A picture of another shape than ``size`` is resized first so that it fits inside
    (``"letterbox"``, then centred on a target-size canvas of its background level, the border's
    median, so the padding draws no frame) or covers it (``"crop"``, then its centre cut out).
    Dark on light (the border, the outermost ring of pixels, averaging brighter than
    ``BORDER_DARK``) is inverted. Every step works at the target size.
    """
    from PIL import Image, ImageOps

    if how not in FITS:
        raise ValueError(f"fit must be one of {FITS}, got {how!r}")  # a programming error
    h, w = int(size[0]), int(size[1])
    iw, ih = img.size
    if iw * h == ih * w:
        shape, scale = "square", w / iw
    elif how == "crop":
        shape, scale = "cropped", max(w / iw, h / ih)  # the smallest scale that covers the target
    else:
        shape, scale = "letterboxed", min(w / iw, h / ih)  # the largest scale that fits inside it
    sw, sh = max(1, round(iw * scale)), max(1, round(ih * scale))
    if shape == "square":
        sw, sh = w, h
    small = _resize(img, (sw, sh))
    inverted = bool(_border(np.asarray(small.convert("L"))).mean() > BORDER_DARK)
    if inverted:
        small = ImageOps.invert(small)
    if shape == "cropped":
        left, top = (sw - w) // 2, (sh - h) // 2
        small = small.crop((left, top, left + w, top + h))
    elif shape == "letterboxed":
        border = _border(np.asarray(small))  # K (L) or K x 3 (RGB) border pixels
        fill = np.median(border, axis=0).round().astype(np.uint8)
        canvas = Image.new(small.mode, (w, h), int(fill) if fill.ndim == 0 else tuple(int(v) for v in fill))
        canvas.paste(small, ((w - sw) // 2, (h - sh) // 2))
        small = canvas
    return FitResult(small, shape, inverted)


# --- the bounded decode ---------------------------------------------------------------------------
def _refuse_size(w: int, h: int, limits: ImageLimits) -> None:
    """The header's size against the caps: the aspect first (a strip's message says it is a strip),
    then the pixels in all, then the long side."""
    if w < 1 or h < 1:
        raise UploadError("err.upload.broken")
    shape = UploadError("err.upload.shape", w=w, h=h, side=limits.max_side, ratio=limits.max_aspect)
    if max(w, h) > limits.max_aspect * min(w, h):
        raise shape
    if w * h > limits.max_pixels:
        raise UploadError("err.upload.too_many_pixels", w=w, h=h, cap=limits.max_pixels)
    if max(w, h) > limits.max_side:
        raise shape


def _decode(data: bytes, limits: ImageLimits, draft: tuple[str, int] | None):
    """``data`` checked and fully decoded (first frame), still in Pillow's own mode.

    ``draft`` = (mode, short side): a JPEG is decoded at the smallest 1/2, 1/4, 1/8 scale that
    keeps its short side at least that long (and in "L" directly when the mode is "L").
    """
    from PIL import Image, UnidentifiedImageError

    if data is None or not isinstance(data, (bytes, bytearray, memoryview)):
        raise UploadError("err.upload.empty")
    n = len(data)
    if n == 0:
        raise UploadError("err.upload.empty")
    if n > limits.max_bytes:
        raise UploadError("err.upload.too_large", mb=round(n / 2**20, 1), cap=f"{limits.max_bytes / 2**20:g}")
    data = bytes(data)
    kind = next((fmt for magic, fmt in _MAGIC.items() if data.startswith(magic)), None)
    if kind is None:
        raise UploadError("err.upload.type", formats="/".join(ALLOWED_FORMATS))  # "PNG/JPEG" reads in both languages
    if kind == "PNG":
        data = _png_pixels_only(data)

    def open_() -> Image.Image:
        # formats=: never fall back to Pillow's other decoders (GIF, TIFF, PSD, EPS...). Opening
        # parses the header only. Pillow's own bomb check (Image.MAX_IMAGE_PIXELS, a global another
        # module may change) raises past 2 x 89 M pixels; ours (``_refuse_size``) is far lower and
        # comes right after, so its warning band (89-179 M) is refused too.
        return Image.open(io.BytesIO(data), formats=ALLOWED_FORMATS)

    try:
        img = open_()
    except UnidentifiedImageError:  # PNG's or JPEG's magic bytes, but a header Pillow cannot parse
        raise UploadError("err.upload.broken") from None
    except Image.DecompressionBombError:
        raise UploadError("err.upload.bomb", cap=limits.max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError):
        raise UploadError("err.upload.broken") from None
    w, h = img.size  # from the header: nothing decoded yet
    _refuse_size(w, h, limits)
    try:
        img.verify()  # PNG: every chunk's CRC, no pixel decoded; the handle is spent after this
        img = open_()
        if draft is not None and img.format in ("JPEG", "MPO"):
            mode, side = draft
            img.draft(mode if mode == "L" else None, (side, side))  # DCT scaling: decodes fewer pixels
        img.load()  # the first frame only; a truncated stream fails here (LOAD_TRUNCATED_IMAGES stays False)
    except Image.DecompressionBombError:
        raise UploadError("err.upload.too_many_pixels", w=w, h=h, cap=limits.max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, UnidentifiedImageError):
        raise UploadError("err.upload.broken") from None
    return img


# The PNG chunks a picture needs: its header, palette and transparency, its pixels (and an animated
# PNG's frame chunks, so that Pillow still reads it as one), its EXIF (the orientation). Every other
# chunk is metadata Pillow would read into memory and never use here; compressed text (zTXt, iTXt)
# and ICC profiles (iCCP) inflate ~1000:1, so a 70 KB file of them held ~130 MB while it was opened.
_PNG_KEEP = frozenset({b"IHDR", b"PLTE", b"tRNS", b"IDAT", b"IEND", b"eXIf", b"acTL", b"fcTL", b"fdAT"})


def _png_pixels_only(data: bytes) -> bytes:
    """``data`` (a PNG) with only the ``_PNG_KEEP`` chunks, each copied whole (its CRC with it, for
    ``verify()``). A chunk that runs past the end is kept as it is: Pillow then reports the file
    truncated. Nothing is decompressed here."""
    out, pos, n = [data[:8]], 8, len(data)
    while pos + 8 <= n:
        length = int.from_bytes(data[pos:pos + 4], "big")
        kind = data[pos + 4:pos + 8]
        end = pos + 12 + length  # length, type, body, CRC
        if end > n:
            out.append(data[pos:])
            break
        if kind in _PNG_KEEP:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    else:
        out.append(data[pos:])  # a few stray bytes: Pillow decides
    return b"".join(out)


_TRANSPOSE = {2: "FLIP_LEFT_RIGHT", 3: "ROTATE_180", 4: "FLIP_TOP_BOTTOM", 5: "TRANSPOSE", 6: "ROTATE_270",
              7: "TRANSVERSE", 8: "ROTATE_90"}  # EXIF orientation → the transpose that makes it upright


def _normalise(img, mode: str, keep: int | None):
    """A decoded picture (any of Pillow's PNG/JPEG modes) as 8-bit ``mode``, upright, transparency
    flattened onto white, 16-bit depth scaled (Pillow's ``convert`` would clip it, turning most of a
    16-bit PNG white), short side at most ``keep``.

    The only full-size copies are the conversions Pillow cannot resample without: palette and
    1-bit to 8-bit, CMYK to RGB, transparency flattened (one 1-3 bytes a pixel image).
    """
    from PIL import Image

    orientation = img.getexif().get(0x0112, 1)  # read before any conversion drops it
    if img.mode in ("P", "PA"):  # a palette resamples only by nearest: expand it first
        if img.mode == "PA" or "transparency" in img.info:
            img = img.convert("RGBA")
        else:
            img = img.convert(mode)
    elif img.mode == "1":
        img = img.convert("L")
    elif img.mode in ("CMYK", "YCbCr", "LAB", "HSV"):
        img = img.convert("RGB")
    if img.mode in ("RGBA", "LA", "RGBa", "La"):
        # flattened onto white, into a new image of the target mode: paste's mask is the alpha band
        flat = Image.new(mode, img.size, 255 if mode == "L" else (255, 255, 255))
        flat.paste(img.convert("RGBA") if img.mode in ("RGBa", "La") else img, (0, 0), img)
        img = flat
    short = min(img.size)
    if keep is not None and short > keep:
        s = keep / short
        img = _resize(img, (max(1, round(img.width * s)), max(1, round(img.height * s))))
    if orientation in _TRANSPOSE:
        img = img.transpose(getattr(Image.Transpose, _TRANSPOSE[orientation]))
    if img.mode.startswith("I;16") or img.mode in ("I", "F"):
        arr = np.asarray(img)  # small now: at most keep × (aspect × keep), or a full-size 16-bit image
        if img.mode.startswith("I;16"):
            arr8 = ((arr.astype(np.uint32) * 255 + 32767) // 65535).astype(np.uint8)
        else:
            top = max(float(arr.max()), 1.0)
            arr8 = np.clip(arr.astype(np.float32) / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
        img = Image.fromarray(arr8, "L")
    return img if img.mode == mode else img.convert(mode)


def _resize(img, size: tuple[int, int]):
    """``img`` resized to ``size`` (W, H), bilinear and antialiased; a large shrink first averages
    boxes of pixels (``reducing_gap``: faster, same look), where Pillow can reduce that mode."""
    from PIL import Image

    if img.size == tuple(size):
        return img
    gap = 3.0 if img.mode in ("L", "RGB", "RGBA", "LA", "I", "F") else None
    return img.resize(tuple(size), Image.Resampling.BILINEAR, reducing_gap=gap)


def _border(arr: np.ndarray) -> np.ndarray:
    """The outermost ring of pixels of ``H x W`` (or ``H x W x C``) as ``K`` (or ``K x C``), float32."""
    if arr.shape[0] <= 2 or arr.shape[1] <= 2:
        return arr.reshape(-1, *arr.shape[2:]).astype(np.float32)
    ring = [arr[0], arr[-1], arr[1:-1, 0], arr[1:-1, -1]]
    return np.concatenate(ring, axis=0).astype(np.float32)
