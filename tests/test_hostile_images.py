"""Hostile images through the one bounded way in (``cnnviz.labs.images``): uploads and drawings.

A corpus of generated files (a 65,536 × 256 PNG that once cost the server 4.6 GB, its tall twin,
a header claiming 100,000 × 100,000, truncated PNG and JPEG, animated PNG and GIF, CMYK JPEG,
16-bit, palette, grey+alpha and 1-bit PNGs, GIF/BMP/WebP/TIFF, random bytes, nothing at all) goes
through BOTH entries: the upload's (``open_image`` + ``fit``, ``fit_image``, ``decode_upload``)
and the drawing's (``drawing_image`` / ``fit_drawing`` on the file as the canvas's data URL).
Each gives its clear error (the key named below) or a valid picture of the target size, never
another exception. Data URLs: a wrong prefix, bad base64, a huge length (refused before base64
is decoded). Memory: the worst cases are decoded in a bare subprocess (no torch) whose peak
resident size must grow by less than ``PEAK_MB`` over what it had before decoding. AppTest: a
too-wide upload on the feature-map page, and on the Results view (with a forged drawing too),
shows the message and no exception.
"""

from __future__ import annotations

import base64
import io
import json
import pathlib
import struct
import subprocess
import sys
import zlib

import numpy as np
import pytest
import torch
from PIL import Image

from cnnviz.errors import CnnvizError
from cnnviz.jobs import finished as lr
from cnnviz.labs import featuremaps as fm
from cnnviz.labs import images
from cnnviz.labs.images import DATA_URL_PREFIX, UploadError

ROOT = pathlib.Path(__file__).resolve().parents[1]
PEAK_MB = 150  # what the worst allowed picture may add to a process's peak resident size (the old code: GBs)
SMALL_MB = 20  # what a refused or tiny one may add (the interpreter's own noise is a few MB)
OK = "ok"


# --- the corpus -----------------------------------------------------------------------------------
def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png_header(w: int, h: int, idat: bytes = b"\x00" * 64) -> bytes:
    """A well-formed PNG (valid CRCs) whose IHDR claims ``w`` × ``h`` 8-bit grey, with a tiny IDAT."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(idat)) + _chunk(b"IEND", b"")


def _save(img: Image.Image, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, fmt, **kw)
    return buf.getvalue()


def _strokes(w: int, h: int) -> np.ndarray:
    """A light bar on black, as a digit is (uint8 H x W)."""
    a = np.zeros((h, w), np.uint8)
    a[h // 4: 3 * h // 4, w // 3: 2 * w // 3] = 230
    return a


def _png_stream(w: int, h: int, channels: int, row) -> bytes:
    """An 8-bit PNG (grey: 1 channel, RGBA: 4) encoded row by row, so that a huge one is never held
    decoded here: ``row(y)`` gives row ``y``'s ``w * channels`` bytes."""
    z = zlib.compressobj(6)
    idat = b"".join(z.compress(b"\x00" + row(y)) for y in range(h)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", w, h, 8, {1: 0, 4: 6}[channels], 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"")


def _wide(w: int, h: int) -> bytes:
    """A black ``w`` × ``h`` grey PNG."""
    black = bytes(w)
    return _png_stream(w, h, 1, lambda y: black)


def _big_drawing() -> bytes:
    """A forged canvas value: a 6,000 × 6,000 RGBA drawing (opaque black) with one white stroke, ~150 KB."""
    black = b"\x00\x00\x00\xff" * 6000
    stroke = b"\x00\x00\x00\xff" * 2900 + b"\xff" * (4 * 200) + b"\x00\x00\x00\xff" * 2900
    return _png_stream(6000, 6000, 4, lambda y: stroke if 1000 <= y < 5000 else black)


def _text_bomb() -> bytes:
    """A 28 × 28 PNG carrying 127 zTXt chunks of 512 KB of text each, ~70 KB compressed: Pillow
    would hold ~64 MB of text (twice, as bytes and str) while opening it."""
    z = zlib.compress(b"a" * (512 * 1024), 9)
    png = _save(Image.fromarray(_strokes(28, 28)), "PNG")
    return png[:33] + b"".join(_chunk(b"zTXt", b"k%d\x00\x00" % i + z) for i in range(127)) + png[33:]


def _apng() -> bytes:
    frames = [Image.fromarray(_strokes(40, 40)), Image.new("L", (40, 40), 255)]
    return _save(frames[0], "PNG", save_all=True, append_images=frames[1:], duration=100)


def _gif_animated() -> bytes:
    frames = [Image.fromarray(_strokes(40, 40)).convert("P"), Image.new("P", (40, 40), 3)]
    return _save(frames[0], "GIF", save_all=True, append_images=frames[1:])


def _cmyk_jpeg() -> bytes:
    return _save(Image.fromarray(np.stack([_strokes(48, 32)] * 3, -1)).convert("CMYK"), "JPEG")


def _png16() -> bytes:
    a = _strokes(40, 40).astype(np.uint16) * 257  # 230 → 59110: the same picture at 16 bits
    return _save(Image.fromarray(a), "PNG")


def _palette(transparent: bool) -> bytes:
    img = Image.fromarray(_strokes(40, 30)).convert("P")
    return _save(img, "PNG", transparency=0) if transparent else _save(img, "PNG")


def _la() -> bytes:
    a = _strokes(40, 40)
    return _save(Image.fromarray(np.stack([a, np.full_like(a, 255)], -1), "LA"), "PNG")


def _truncated_jpeg() -> bytes:
    data = _save(Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)), "JPEG")
    return data[: len(data) // 2]


def _truncated_png() -> bytes:
    data = _save(Image.fromarray(np.random.default_rng(0).integers(0, 256, (64, 64), dtype=np.uint8)), "PNG")
    return data[: len(data) // 2]


# name: (bytes factory, upload's outcome, drawing's outcome): OK or the error key (a tuple: any of them)
TOO_BIG = ("err.upload.bomb", "err.upload.too_many_pixels")
CORPUS = {
    "wide_65536x256": (lambda: _wide(65536, 256), "err.upload.shape", "err.upload.shape"),
    "tall_256x65536": (lambda: _wide(256, 65536), "err.upload.shape", "err.upload.shape"),
    "wide_9to1": (lambda: _wide(900, 100), "err.upload.shape", "err.upload.shape"),
    "wide_8to1": (lambda: _wide(800, 100), OK, OK),  # blank: the drawing entry gives None, no error
    "side_5000x1000": (lambda: _wide(5000, 1000), "err.upload.shape", "err.upload.too_many_pixels"),
    "header_100000x100000": (lambda: _png_header(100_000, 100_000), TOO_BIG, TOO_BIG),
    "header_5000x5000": (lambda: _png_header(5000, 5000), "err.upload.too_many_pixels", "err.upload.too_many_pixels"),
    "drawing_6000x6000": (_big_drawing, "err.upload.too_many_pixels", "err.upload.too_many_pixels"),
    "header_0x10": (lambda: _png_header(0, 10), "err.upload.broken", "err.upload.broken"),
    "png_text_bomb": (_text_bomb, OK, OK),
    "truncated_png": (_truncated_png, "err.upload.broken", "err.upload.broken"),
    "truncated_jpeg": (_truncated_jpeg, "err.upload.broken", "err.upload.broken"),
    "apng_first_frame": (_apng, OK, OK),
    "gif_animated": (_gif_animated, "err.upload.type", "err.upload.type"),
    "cmyk_jpeg": (_cmyk_jpeg, OK, OK),
    "png_16bit": (_png16, OK, OK),
    "png_palette": (lambda: _palette(False), OK, OK),
    "png_palette_transparent": (lambda: _palette(True), OK, OK),
    "png_la": (_la, OK, OK),
    "png_1bit": (lambda: _save(Image.fromarray(_strokes(40, 40) > 0), "PNG"), OK, OK),
    "gif": (lambda: _save(Image.new("L", (16, 16), 128), "GIF"), "err.upload.type", "err.upload.type"),
    "bmp": (lambda: _save(Image.new("L", (16, 16), 128), "BMP"), "err.upload.type", "err.upload.type"),
    "webp": (lambda: _save(Image.new("RGB", (16, 16)), "WEBP"), "err.upload.type", "err.upload.type"),
    "tiff": (lambda: _save(Image.new("L", (16, 16)), "TIFF"), "err.upload.type", "err.upload.type"),
    "random_bytes": (lambda: np.random.default_rng(1).bytes(2000), "err.upload.type", "err.upload.type"),
    "text": (lambda: b"<svg xmlns='http://www.w3.org/2000/svg'/>", "err.upload.type", "err.upload.type"),
    "png_magic_only": (lambda: b"\x89PNG\r\n\x1a\n", "err.upload.broken", "err.upload.broken"),
    "empty": (lambda: b"", "err.upload.empty", "err.upload.empty"),
    "over_5_mb": (lambda: _wide(8, 8) + b"\0" * (images.MAX_UPLOAD_BYTES + 1), "err.upload.too_large",
                  "err.drawing.too_large"),
}


@pytest.fixture(scope="module")
def corpus() -> dict[str, bytes]:
    return {name: make() for name, (make, _, _) in CORPUS.items()}


def _expect(outcome, call):
    """Run ``call``; an error must be an ``UploadError`` with the expected key, rendered in both
    languages; a success is returned for the caller to check."""
    if outcome == OK:
        return call()
    with pytest.raises(UploadError) as info:
        call()
    codes = outcome if isinstance(outcome, tuple) else (outcome,)
    assert info.value.code in codes, f"{info.value.code}: {info.value}"
    en, zh = info.value.render("en"), info.value.render("zh")
    assert en and zh and en != zh and "{" not in en + zh
    return None


def _url(data: bytes) -> str:
    return DATA_URL_PREFIX + base64.b64encode(data).decode("ascii")


@pytest.mark.parametrize("name", list(CORPUS))
@pytest.mark.parametrize("mode,size,how", [("L", (28, 28), "letterbox"), ("RGB", (32, 32), "crop"),
                                           ("L", (40, 20), "letterbox")])
def test_the_upload_entry_gives_its_error_or_a_target_size_picture(corpus, name, mode, size, how):
    outcome = CORPUS[name][1]
    data = corpus[name]
    img = _expect(outcome, lambda: images.open_image(data, mode, need=max(size)))
    if img is not None:
        assert img.mode == mode and min(img.size) <= 2 * max(size)  # already small
        done = images.fit(img, size, how)
        assert done.image.size == (size[1], size[0]) and done.image.mode == mode
    fitted = _expect(outcome, lambda: lr.fit_image(data, size, mode, how))
    if fitted is not None:
        assert fitted.x.shape == (1, len(mode), *size) and fitted.x.dtype == torch.float32
        assert 0.0 <= float(fitted.x.min()) and float(fitted.x.max()) <= 1.0
    x = _expect(outcome, lambda: fm.decode_upload(data, mode, size))
    if x is not None:
        assert x.shape == (1, len(mode), *size)


@pytest.mark.parametrize("name", list(CORPUS))
def test_the_drawing_entry_gives_its_error_a_picture_or_none(corpus, name):
    outcome = CORPUS[name][2]
    url = _url(corpus[name])
    grey = _expect(outcome, lambda: images.drawing_image(url))
    if grey is not None:
        assert grey.mode == "L" and max(grey.size) <= images.MAX_DRAWING_SIDE
    fitted = _expect(outcome, lambda: lr.fit_drawing(url, (28, 28), "L"))
    if fitted is not None:
        assert fitted.x.shape == (1, 1, 28, 28)
    assert (grey is None) == (fitted is None)


def test_the_decoded_pictures_are_the_pictures(corpus):
    """Not just no error: each allowed format comes back as the light bar on black it holds."""
    for name in ("apng_first_frame", "cmyk_jpeg", "png_16bit", "png_palette", "png_la", "png_1bit"):
        x = lr.fit_image(corpus[name], (28, 28), "L").x[0, 0]
        assert x[14, 14] > 0.8 and x[1, 1] < 0.1, name  # the bar in the middle, black around it
    # a transparent palette entry (index 0, the black) flattens onto white: the border is light, so inverted
    f = lr.fit_image(corpus["png_palette_transparent"], (28, 28), "L")
    assert f.inverted
    # the 16-bit picture is scaled, not clipped (Pillow's own convert would make 59110 white and 0 stay black)
    grey = images.open_image(corpus["png_16bit"], "L")
    assert np.asarray(grey).max() == 230 and np.asarray(grey).min() == 0


def test_the_drawing_strokes_are_light_on_dark():
    rgba = np.zeros((280, 280, 4), np.uint8)
    assert images.drawing_image(_url(_save(Image.fromarray(rgba, "RGBA"), "PNG"))) is None  # blank: None
    rgba[40:240, 130:152] = (255, 255, 255, 255)  # a white stroke on a transparent background
    grey = images.drawing_image(_url(_save(Image.fromarray(rgba, "RGBA"), "PNG")))
    a = np.asarray(grey)
    assert grey.size == (280, 280) and a[50, 140] == 255 and a[10, 10] == 0
    f = lr.fit_drawing(_url(_save(Image.fromarray(rgba, "RGBA"), "PNG")), (28, 28), "L")
    assert f.shape == "square" and not f.inverted and f.x[0, 0, 14, 14] > 0.9 and f.x[0, 0, 1, 1] == 0
    assert lr.fit_drawing(None, (28, 28)) is None


@pytest.mark.parametrize("url,code", [
    ("data:image/jpeg;base64,/9j/4AAQ", "err.drawing.unreadable"),
    ("http://example.com/x.png", "err.drawing.unreadable"),
    ("", "err.drawing.unreadable"),
    (DATA_URL_PREFIX + "@@@not base64@@@", "err.drawing.unreadable"),
    (DATA_URL_PREFIX + "iVBORw0KGgo", "err.drawing.unreadable"),  # padding missing: strict base64
    (DATA_URL_PREFIX, "err.upload.empty"),
    (DATA_URL_PREFIX + base64.b64encode(b"GIF89a" + b"\0" * 30).decode(), "err.upload.type"),
    (b"data:image/png;base64,AAAA", "err.drawing.unreadable"),  # not a str
    ({"data": "x"}, "err.drawing.unreadable"),
])
def test_a_forged_data_url_is_refused(url, code):
    with pytest.raises(UploadError) as info:
        images.drawing_image(url)
    assert info.value.code == code


def test_a_huge_data_url_is_refused_by_its_length_before_base64(monkeypatch):
    def no_decode(*a, **k):
        raise AssertionError("base64 was decoded")

    monkeypatch.setattr(images.base64, "b64decode", no_decode)
    url = DATA_URL_PREFIX + "A" * (images.DRAWING.max_data_url_chars - len(DATA_URL_PREFIX) + 4)
    with pytest.raises(UploadError) as info:
        images.drawing_image(url)
    assert info.value.code == "err.drawing.too_large" and "1,024 KB" in str(info.value)


def test_the_messages_name_the_limits(corpus):
    with pytest.raises(UploadError) as info:
        images.open_image(corpus["wide_65536x256"])
    msg = str(info.value)
    assert "65,536 × 256" in msg and "4,096" in msg and "8:1" in msg
    zh = info.value.render("zh")
    assert "65,536 × 256" in zh and "4,096" in zh and "8:1" in zh


def test_no_float64_picture_at_full_size(corpus, monkeypatch):
    """The decode and the fit never ask numpy for a float64 array (the old drawing path made one of
    the whole canvas, the old 16-bit path one of the whole picture)."""
    real = np.asarray

    def guarded(a, dtype=None, *args, **kw):
        assert dtype not in (np.float64, float), "a float64 copy"
        return real(a, dtype, *args, **kw)

    monkeypatch.setattr(images.np, "asarray", guarded)
    for name in ("png_16bit", "cmyk_jpeg", "png_la", "wide_8to1"):
        images.fit(images.open_image(corpus[name], "L", need=28), (28, 28))
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[100:200, 130:150] = 255
    assert fm.drawing_png(rgba) is not None


def test_limits_are_sane():
    """The caps agree with each other and with what the page's uploader allows."""
    assert images.MAX_UPLOAD_SIDE ** 2 >= images.MAX_UPLOAD_PIXELS >= 4032 * 3024  # a 12 MP phone photo fits
    assert images.DRAWING.max_side >= 280 * 2 and images.DRAWING.max_bytes < images.UPLOAD.max_bytes
    assert fm.MAX_UPLOAD_BYTES == images.MAX_UPLOAD_BYTES and fm.UploadError is UploadError
    assert issubclass(UploadError, CnnvizError)


# --- bounded memory, in a bare subprocess -----------------------------------------------------------
# The child reads the files, imports only cnnviz.labs.images (no torch: asserted), notes its peak
# resident size, then decodes and fits; it prints the growth of the peak (ru_maxrss is in KB on Linux).
CHILD = r"""
import base64, json, resource, sys
data = open(sys.argv[1], "rb").read()
entry = sys.argv[2]
from cnnviz.labs import images
assert "torch" not in sys.modules
url = images.DATA_URL_PREFIX + base64.b64encode(data).decode("ascii") if entry == "drawing" else None
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
try:
    if entry == "drawing":
        img = images.drawing_image(url)
        out = None if img is None else images.fit(img, (28, 28)).image.size
    else:
        out = images.fit(images.open_image(data, sys.argv[3], need=224), (224, 224)).image.size
    code = None
except images.UploadError as err:
    out, code = None, err.code
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
print(json.dumps({"growth_mb": (after - before) / 1024, "code": code, "size": out}))
"""


def _allowed_worst() -> dict[str, bytes]:
    """The largest pictures the caps allow, in the costliest forms: RGBA PNG and a transparent
    palette PNG at the pixel cap (noise does not compress: under the byte cap only at low entropy,
    so a smooth gradient), a 16-bit PNG at the cap, a JPEG at the cap."""
    w, h = 4096, 3072
    ramp = (np.arange(w, dtype=np.uint32)[None, :] * 255 // w).astype(np.uint8).repeat(h, 0)  # H x W
    rgba = Image.fromarray(np.stack([ramp, ramp[::-1], ramp, np.full_like(ramp, 200)], -1), "RGBA")
    out = {"rgba_at_cap": _save(rgba, "PNG", optimize=False)}
    out["palette_transparent_at_cap"] = _save(Image.fromarray(ramp).convert("P"), "PNG", transparency=0)
    out["png16_at_cap"] = _save(Image.fromarray(ramp.astype(np.uint16) * 257), "PNG")
    out["jpeg_at_cap"] = _save(rgba.convert("RGB"), "JPEG", quality=80)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("name,entry,mode", [
    ("wide_65536x256", "upload", "L"), ("tall_256x65536", "upload", "RGB"), ("drawing_6000x6000", "drawing", ""),
    ("wide_65536x256", "drawing", ""), ("header_100000x100000", "upload", "L"),
    ("rgba_at_cap", "upload", "RGB"), ("rgba_at_cap", "upload", "L"), ("palette_transparent_at_cap", "upload", "RGB"),
    ("png16_at_cap", "upload", "L"), ("jpeg_at_cap", "upload", "RGB"), ("png_text_bomb", "upload", "L"),
    ("png_text_bomb", "drawing", ""),
])
def test_the_worst_cases_stay_within_bounded_memory(corpus, tmp_path, name, entry, mode):
    data = corpus[name] if name in corpus else _allowed_worst()[name]
    assert len(data) <= images.MAX_UPLOAD_BYTES, f"{name} is {len(data)} bytes: not a case the byte cap lets through"
    path = tmp_path / "img"
    path.write_bytes(data)
    proc = subprocess.run([sys.executable, "-c", CHILD, str(path), entry, mode or "L"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    got = json.loads(proc.stdout.strip().splitlines()[-1])
    if name.endswith("_at_cap"):  # allowed, and decoded: its pixels cost what they cost, within the bound
        assert got["code"] is None and got["size"] == [224, 224] and got["growth_mb"] < PEAK_MB, got
    elif name == "png_text_bomb":  # a 28 × 28 picture: its metadata never inflated
        assert got["code"] is None and got["size"] in ([224, 224], [28, 28]) and got["growth_mb"] < SMALL_MB, got
    else:  # refused from its header: nothing decoded
        assert got["code"] is not None and got["growth_mb"] < SMALL_MB, got


# --- the pages ------------------------------------------------------------------------------------
@pytest.fixture
def no_pool(monkeypatch, tmp_path):
    """The pages' scheduler on a store of this test's, told a pool is run elsewhere: rendering the
    feature-map page (its estimate of the quick training) must not start a real pool here."""
    from ui import sched

    monkeypatch.setenv("CNNVIZ_DB", str(tmp_path / "runs.sqlite"))
    monkeypatch.setenv("CNNVIZ_POOL", "external")
    sched._scheduler.clear()
    yield
    sched._scheduler.clear()


@pytest.mark.slow  # the page renders a network (~4 s)
def test_a_too_wide_upload_on_the_feature_map_page_says_so(corpus, no_pool):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "pages" / "featuremaps.py"), default_timeout=120)
    at.session_state["lang"] = "en"
    at.session_state["_student_token"] = "hostile-images-token-0001"
    at.query_params["src"] = "upload"  # straight to the uploader: no dataset image's maps first
    at.run()
    assert at.radio(key="featuremaps.src").value == "upload"
    at.get("file_uploader")[0].set_value(("wide.png", corpus["wide_65536x256"], "image/png")).run()
    assert not at.exception, at.exception
    assert at.error and "65,536 × 256" in at.error[0].value and "8:1" in at.error[0].value


def _try_tab_app():
    """The Results view's "try your own" tab alone, for an untrained LeNet posing as a finished run
    (no store, no training: the tab needs only the run's config and network)."""
    import threading

    from cnnviz.jobs.finished import TrainedRun
    from cnnviz.models.registry import create_model
    from ui import results as ur

    from training_helpers import tiny

    cfg = tiny()
    ur.try_tab("run0000hostile", cfg.data.dataset, TrainedRun(None, cfg, create_model(cfg.model).eval()),
               threading.Lock(), "hostile")


def _canvas_value(url: str) -> dict:
    """The canvas component's state as its frontend sets it (``setStateValue("drawing", ...)``)."""
    return {"drawing": {"raw": {"objects": []}, "data": url}}


def test_the_results_view_refuses_a_too_wide_upload_and_a_forged_drawing(corpus):
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_function(_try_tab_app, default_timeout=120)
    at.session_state["lang"] = "en"
    at.run()
    assert not at.exception, at.exception
    up = next(u for u in at.get("file_uploader") if u.id.endswith("try_up"))
    up.set_value(("wide.png", corpus["wide_65536x256"], "image/png")).run()
    assert not at.exception, at.exception
    assert at.error and "65,536 × 256" in at.error[0].value and "8:1" in at.error[0].value
    assert not [c for c in at.get("plotly_chart")]  # no guesses for a refused picture
    # the drawing: the canvas's value as a forged browser would send it (the component's state)
    at.radio(key="hostile.try_src").set_value("draw").run()
    assert not at.exception and not at.error and any("Draw something first" in c.value for c in at.caption)
    at.session_state["hostile.canvas"] = _canvas_value(_url(corpus["drawing_6000x6000"]))
    at.run()
    assert not at.exception, at.exception
    assert at.error and "6000×6000" in at.error[0].value
    at.session_state["hostile.canvas"] = _canvas_value("data:image/gif;base64,R0lG")
    at.run()
    assert not at.exception and at.error and "did not send a PNG" in at.error[0].value
    # a real drawing's value (a white stroke on black, 280 × 280) gives the three guesses
    rgba = np.zeros((280, 280, 4), np.uint8)
    rgba[..., 3] = 255
    rgba[40:240, 130:152, :3] = 255
    at.session_state["hostile.canvas"] = _canvas_value(_url(_save(Image.fromarray(rgba, "RGBA"), "PNG")))
    at.run()
    assert not at.exception and not at.error, at.exception
    assert any("square" in i.value for i in at.info) and len(at.get("plotly_chart")) == 2  # the input, the top 3
