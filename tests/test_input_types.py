"""Values of the wrong type or range are one clear ``CnnvizError``, never a traceback or a
silently wrong network: configs, training settings, the run store, uploads, event JSON."""

from __future__ import annotations

import io
import json

import numpy as np
import pytest
from PIL import Image

from cnnviz import CnnvizError, create_model, get_config
from cnnviz.inspect.tracing import trace
from cnnviz.labs.featuremaps import decode_upload
from cnnviz.runs.store import RunStore
from cnnviz.train.config import TrainConfig
from cnnviz.train.events import StepEvent


@pytest.mark.parametrize("field, value", [
    ("batch_norm", "no"),  # truthy: would build BatchNorm
    ("num_classes", "10"),
    ("dropout", "0.5"),
    ("activation", 3),
    ("width_div", 2.5),
    ("in_channels", True),
])
def test_config_fields_keep_their_types(field, value):
    with pytest.raises(CnnvizError) as info:
        get_config("lenet", **{field: value})
    assert info.value.code == "err.bad_value" and field in str(info.value)


def test_integral_floats_are_ints():
    cfg = get_config("lenet", num_classes=10.0, input_hw=(28.0, 28))
    assert cfg.num_classes == 10 and type(cfg.num_classes) is int and cfg.input_hw == (28, 28)


@pytest.mark.parametrize("batch", [float("nan"), "x", 2.7, None])
def test_trace_batch_size_must_be_an_int(batch):
    with pytest.raises(CnnvizError) as info:
        trace(get_config("lenet"), batch_size=batch)
    assert info.value.code == "err.batch_size" and "4096" in str(info.value)


def test_create_model_names_a_bad_device():
    with pytest.raises(CnnvizError) as info:
        create_model("lenet", device="gpu")
    assert "device" in str(info.value) and "gpu" in str(info.value)


@pytest.mark.parametrize("kwargs, code, named", [
    (dict(input_side=float("inf")), "err.input_hw", "inf"), (dict(input_side="abc"), "err.input_hw", "abc"),
    (dict(lr="0.1"), "err.bad_value", "lr"), (dict(device=None), "err.bad_value", "device"),
    (dict(bogus=1), "err.unknown_setting", "bogus"), (dict(seed=10**23), "err.range", "seed"),
    (dict(seed=-1), "err.range", "seed"), (dict(device="cuda:٣"), "err.choice", "cuda:٣"),
    (dict(device="cuda:99999999"), "err.choice", "cuda:99999999"),
    (dict(batch_size=2.5), "err.bad_value", "batch_size"),
    (dict(max_steps=1.5), "err.bad_value", "max_steps"),
])
def test_training_settings_fail_cleanly(kwargs, code, named):
    with pytest.raises(CnnvizError) as info:
        TrainConfig.create("lenet", **kwargs)
    assert info.value.code == code and named in str(info.value)  # the message names the setting or the value


def test_a_stored_config_from_elsewhere_is_a_clear_error():
    with pytest.raises(CnnvizError) as info:
        TrainConfig.from_dict({})
    assert info.value.code == "err.bad_value" and "arch" in str(info.value)


@pytest.mark.parametrize("content", [b"garbage, not sqlite", None])
def test_an_unusable_run_store_is_one_message(tmp_path, content):
    path = tmp_path / "runs.sqlite"
    if content is None:
        path.mkdir()  # a folder where the database should be
    else:
        path.write_bytes(content)
    with pytest.raises(CnnvizError) as info:
        RunStore(path)
    assert str(path) in str(info.value)


def test_sixteen_bit_png_keeps_its_tones():
    ramp = np.linspace(0, 65535, 64 * 64).reshape(64, 64).astype(np.uint16)
    buf = io.BytesIO()
    Image.fromarray(ramp).save(buf, "PNG")
    x = decode_upload(buf.getvalue(), "L", (28, 28))
    # Pillow's plain convert("L") clips a 16-bit ramp: almost every pixel would be 1.0
    assert 0.45 < float(x.mean()) < 0.55 and float((x >= 0.999).float().mean()) < 0.05


def test_transparency_becomes_white_and_exif_rotation_is_applied():
    buf = io.BytesIO()
    Image.new("RGBA", (10, 10), (0, 0, 0, 0)).save(buf, "PNG")
    assert float(decode_upload(buf.getvalue(), "L", (8, 8)).min()) == 1.0
    wide = Image.new("L", (40, 20), 0)
    wide.paste(255, (0, 0, 20, 20))  # left half white
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90° clockwise to display"
    buf = io.BytesIO()
    wide.save(buf, "JPEG", exif=exif, quality=95)
    x = decode_upload(buf.getvalue(), "L", (40, 20))[0, 0]  # H=40, W=20 once upright
    assert float(x[:20].mean()) > 0.8 > 0.2 > float(x[20:].mean())  # the white half is now on top


def test_events_are_strict_json_at_any_depth():
    ev = StepEvent(**{**_step_fields(), "grad_norms": {"a": float("inf"), "b": 1.0}, "loss": float("nan")})
    text = json.dumps(ev.to_dict(), allow_nan=False)  # raises on NaN/Infinity
    d = json.loads(text)
    assert d["grad_norms"] == {"a": None, "b": 1.0} and d["loss"] is None


def _step_fields() -> dict:
    import dataclasses

    out = {}
    for f in dataclasses.fields(StepEvent):
        if f.default is not dataclasses.MISSING or f.default_factory is not dataclasses.MISSING:  # type: ignore[misc]
            continue
        out[f.name] = {} if "dict" in str(f.type) or "Mapping" in str(f.type) else 0
    return out
