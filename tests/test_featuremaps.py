"""Feature-map capture and the upload guard: every bad file gets its own clear message."""

from __future__ import annotations

import io
import struct
import zlib

import numpy as np
import pytest
import torch
from conftest import WAIT_S
from PIL import Image

from cnnviz.labs import featuremaps as fm
from cnnviz.labs.featuremaps import UploadError, capture, decode_upload, tile
from cnnviz.models.registry import create_model, get_config


def _png(w=40, h=30, mode="L") -> bytes:
    rng = np.random.default_rng(0)
    shape = (h, w) if mode == "L" else (h, w, 3)
    buf = io.BytesIO()
    Image.fromarray(rng.integers(0, 256, shape, dtype=np.uint8), mode).save(buf, "PNG")
    return buf.getvalue()


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)


def _png_header_only(w: int, h: int) -> bytes:
    """A well-formed PNG signature + IHDR claiming w×h, with a tiny IDAT: a decompression bomb's shape."""
    ihdr = struct.pack(">IIBBBBB", w, h, 8, 0, 0, 0, 0)  # 8-bit grayscale
    return (b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", zlib.compress(b"\x00" * 64))
            + _chunk(b"IEND", b""))


def _code(data: bytes) -> str:
    with pytest.raises(UploadError) as info:
        decode_upload(data)
    # every message renders in both languages without a missing parameter
    assert info.value.render("en") and info.value.render("zh") != info.value.render("en")
    return info.value.code


def test_valid_png_and_jpeg_decode_to_model_input():
    x = decode_upload(_png(40, 30), "L", (28, 28))
    assert x.shape == (1, 1, 28, 28) and x.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    buf = io.BytesIO()
    Image.fromarray(np.full((50, 60, 3), 200, np.uint8)).save(buf, "JPEG")
    y = decode_upload(buf.getvalue(), "RGB", (32, 32))
    assert y.shape == (1, 3, 32, 32)
    assert abs(float(y.mean()) - 200 / 255) < 0.02  # a flat grey image stays that grey
    # an RGB PNG converted to one channel
    assert decode_upload(_png(10, 10, "RGB"), "L", (8, 8)).shape == (1, 1, 8, 8)


def test_random_bytes_are_not_an_image():
    assert _code(np.random.default_rng(1).bytes(2000)) == "err.upload.type"


def test_gif_is_refused_by_type():
    buf = io.BytesIO()
    Image.new("L", (16, 16), 128).save(buf, "GIF")
    assert buf.getvalue()[:3] == b"GIF"
    assert _code(buf.getvalue()) == "err.upload.type"


def test_truncated_png_is_broken():
    data = _png(64, 64)
    assert _code(data[: len(data) // 2]) == "err.upload.broken"


def test_corrupted_png_chunk_is_broken():
    data = bytearray(_png(64, 64))
    data[60] ^= 0xFF  # inside the first IDAT: its CRC no longer matches
    assert _code(bytes(data)) == "err.upload.broken"


def test_huge_dimension_header_is_refused_before_decoding():
    # 100000 × 100000 = 10^10 pixels: over Pillow's own bomb limit too
    assert _code(_png_header_only(100_000, 100_000)) in ("err.upload.bomb", "err.upload.too_many_pixels")
    # 5000 × 5000 = 25 M pixels: under Pillow's limit, over ours
    with pytest.raises(UploadError) as info:
        decode_upload(_png_header_only(5000, 5000))
    assert info.value.code == "err.upload.too_many_pixels"
    assert "5000×5000" in str(info.value)


def test_oversized_file_and_empty_file():
    big = _png(8, 8) + b"\0" * (fm.MAX_UPLOAD_BYTES + 1)
    with pytest.raises(UploadError) as info:
        decode_upload(big)
    assert info.value.code == "err.upload.too_large" and "5 MB" in str(info.value)
    assert _code(b"") == "err.upload.empty"


def test_capture_returns_every_conv_and_restores_the_model():
    cfg = get_config("lenet", batch_norm=True)
    torch.manual_seed(0)
    model = create_model(cfg)
    model.train()
    x = torch.rand(1, 1, 28, 28)
    maps = capture(model, x, max_channels=4)
    assert [m.name for m in maps] == ["features.0", "features.4"]
    assert maps[0].channels == 6 and maps[0].maps.shape == (4, 24, 24)
    assert maps[1].channels == 16 and maps[1].maps.shape == (4, 8, 8)
    # the hook copied the real conv output
    with torch.no_grad():
        ref = model.features[0](x)[0, :4].numpy()
    np.testing.assert_allclose(maps[0].maps, ref, rtol=1e-6, atol=1e-6)
    # hooks gone, mode restored
    assert model.training
    assert all(not m._forward_hooks for m in model.modules())


def test_capture_removes_hooks_when_forward_fails():
    model = create_model(get_config("lenet"))
    with pytest.raises(RuntimeError):
        capture(model, torch.rand(1, 3, 28, 28))  # wrong channel count: the conv raises
    assert all(not m._forward_hooks for m in model.modules())


def test_capture_googlenet_lists_inception_paths():
    model = create_model(get_config("googlenet", width_div=8))
    maps = capture(model, torch.rand(1, 1, 96, 96), max_channels=2)
    names = [m.name for m in maps]
    assert len(names) == sum(isinstance(m, torch.nn.Conv2d) for m in model.modules())
    assert names.index("b3.0.p1.0") < names.index("b3.0.p2.0") < names.index("b3.0.p4.1")


def test_tile_lays_out_a_grid():
    maps = np.stack([np.full((3, 3), i, np.float32) + np.eye(3) for i in range(5)])
    g = tile(maps, cols=3, pad=1)
    assert g.shape == (2 * 4 - 1, 3 * 4 - 1)
    assert np.isnan(g[3, 0]) and np.isnan(g[4, 8])  # padding row, empty sixth cell
    assert g[0, 0] == 1.0 and g[0, 1] == 0.0  # each map normalised to [0, 1]


# --- the quick training: a "featuremaps" job that keeps its weights ---------------------------------
def test_quick_training_is_fixed_in_steps_not_wall_time():
    for arch in fm.FM_ARCHS:
        cfg = fm.quick_config(arch, "fashion-mnist")
        tcfg = cfg.train_config()
        assert cfg.steps == fm.QUICK_STEPS[arch] and tcfg.max_steps == cfg.steps and tcfg.time_budget_s is None
        assert tcfg.epochs * 79 >= cfg.steps  # never cut short by the epochs (79 steps an epoch on the subset)
        assert fm.QuickTrainConfig.from_dict(cfg.to_dict()) == cfg
    assert fm.QuickTrainConfig(arch="nin").total_steps == fm.QUICK_STEPS["nin"]  # 0: the network's own
    for bad in ({"arch": "vgg16"}, {"steps": -1}, {"steps": fm.MAX_QUICK_STEPS + 1}, {"steps": "5"}):
        with pytest.raises(fm.ConfigError):
            fm.QuickTrainConfig.from_dict(bad)


def test_quick_training_job_keeps_the_trained_weights(module_sched_db, tmp_path):

    from cnnviz.runs.scheduler import Scheduler

    cfg = fm.QuickTrainConfig(arch="lenet", steps=15, seed=4)
    sch = Scheduler(module_sched_db, pool="external")
    try:
        t = sch.submit("featuremaps", cfg.to_dict(), "f" * 24)
        info = sch.wait(t.run_id, WAIT_S)
        assert info.status == "completed" and info.progress == 1.0, info
        evs = sch.events(t.run_id)
        assert evs[-1].kind == "end" and evs[-1].step == 15 and evs[-1].own
        path = sch.weights.path(t.run_id)
        assert path.is_file()
        trained = fm.load_trained(cfg, path)
        # the same training here, in this process: the same weights (another process, one thread: to rounding)
        local = tmp_path / "w.pt"
        assert [e.kind for e in fm.quick_train_stream(cfg, weights_path=local)][-1] == "end"
        want = torch.load(local, weights_only=True)
        untrained = fm.untrained_model(cfg.train_config()).state_dict()
        moved = False
        for k, v in trained.state_dict().items():
            assert torch.allclose(v.float(), want[k].float(), rtol=1e-3, atol=1e-5), k
            moved |= not torch.equal(v, untrained[k])
        assert moved  # it trained
        x = torch.rand(1, 1, 28, 28)
        assert [m.name for m in capture(trained, x)] == ["features.0", "features.4"]
    finally:
        sch.close()
