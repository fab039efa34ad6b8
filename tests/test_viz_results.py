"""The Results figures (``cnnviz.viz.results``) from hand-made results dicts, without Streamlit."""

from __future__ import annotations

import base64
import io

import numpy as np
import pytest
from PIL import Image

from cnnviz.i18n import t
from cnnviz.viz import results as vr

NAMES = [f"c{i}" for i in range(10)]


def confusion(seed: int = 0, n: int = 500) -> list[list[int]]:
    rng = np.random.default_rng(seed)
    m = rng.integers(0, 6, (10, 10))
    m[np.diag_indices(10)] += rng.integers(20, 60, 10)
    m[3] = 0  # a class with no test image
    return m.tolist()


def mistake(true: int, pred: int, prob: float, fill: int = 200) -> dict:
    img = np.zeros((28, 28), dtype=np.uint8)
    img[5:20, 8:16] = fill
    return {"index": 7, "true": true, "pred": pred, "prob": prob, "image": img.tolist()}


def test_confusion_heatmap_is_the_matrix_with_counts_and_names():
    cm = confusion()
    fig = vr.confusion_figure(cm, NAMES)
    hm = fig.data[0]
    assert hm.type == "heatmap"
    assert [list(r) for r in hm.z] == cm
    assert [list(r) for r in hm.text] == cm and hm.texttemplate == "%{text}"
    assert list(hm.x) == NAMES and list(hm.y) == NAMES
    assert fig.layout.yaxis.autorange == "reversed"  # true class 0 on top, as the matrix reads
    diag = [s for s in fig.layout.shapes if s.type == "rect"]
    assert len(diag) == 10 and all(s.x0 == s.y0 for s in diag)  # the diagonal outlined


def test_row_normalised_confusion_keeps_the_counts_as_text():
    cm = confusion(1)
    fig = vr.confusion_figure(cm, NAMES, normalise=True)
    hm = fig.data[0]
    assert [list(r) for r in hm.text] == cm
    for row, zrow in zip(cm, hm.z):
        if sum(row):
            assert sum(zrow) == pytest.approx(1.0)
            assert [round(z * sum(row)) for z in zrow] == row
        else:
            assert all(z is None for z in zrow)
    assert hm.zmax == 1


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_labels_in_both_languages(lang):
    fig = vr.confusion_figure(confusion(), NAMES, lang)
    assert fig.layout.title.text == t("resv.cm.title", lang)
    assert fig.layout.xaxis.title.text == t("resv.cm.pred_axis", lang)
    assert fig.layout.yaxis.title.text == t("resv.cm.true_axis", lang)
    pc = vr.per_class_figure([0.9, 0.5, None] + [0.7] * 7, NAMES, 0.72, lang)
    assert pc.layout.title.text == t("resv.pc.title", lang)
    assert t("resv.pc.none", lang) in pc.data[0].text[2]
    assert pc.layout.annotations[0].text == t("resv.pc.overall", lang, acc="72.0%")
    top = vr.topk_figure([(3, 0.7), (1, 0.2), (0, 0.05)], NAMES, lang)
    assert top.layout.title.text == t("resv.top.title", lang, k=3)
    if lang == "zh":
        assert any("\u4e00" <= ch <= "\u9fff" for ch in fig.layout.title.text)


def test_per_class_bars():
    per = [0.9, 0.5, None, 1.0, 0.0, 0.25, 0.5, 0.75, 0.6, 0.4]
    fig = vr.per_class_figure(per, NAMES, accuracy=0.6)
    bar = fig.data[0]
    assert list(bar.y) == [0 if v is None else v for v in per]
    assert bar.text[0] == "90%" and bar.text[2] == t("resv.pc.none", "en")


@pytest.mark.parametrize("lang", ["en", "zh"])
def test_mistakes_grid_titles_and_image(lang):
    names = [f"类{i}" if lang == "zh" else f"class {i}" for i in range(10)]
    ms = [mistake(1, 7, 0.973), mistake(4, 2, 0.51, fill=90), mistake(9, 0, 0.334)]
    fig = vr.mistakes_figure(ms, names, lang, cols=2)
    assert len(fig.data) == 1 and fig.data[0].type == "image"  # one light trace, not a heatmap per image
    texts = [a.text for a in fig.layout.annotations]
    assert texts == [t("resv.mis.caption", lang, true=names[m["true"]], pred=names[m["pred"]],
                       p=vr.pct(m["prob"])).replace(" → ", "<br>→ ") for m in ms]
    assert names[1] in texts[0] and names[7] in texts[0] and "97%" in texts[0]
    assert vr.mistake_caption(ms[0], names, lang) == t("resv.mis.caption", lang, true=names[1], pred=names[7],
                                                         p="97%")
    assert fig.layout.title.text == t("resv.mis.title", lang, n=3)
    # the PNG holds each image where its caption says: tile 1 (second column) is the 90-grey one
    src = fig.data[0].source
    assert src.startswith("data:image/png;base64,") and len(src) < 4000
    png = np.asarray(Image.open(io.BytesIO(base64.b64decode(src.split(",", 1)[1]))))
    cell_w = vr.TILE + vr.GAP_PX
    assert png.shape == (2 * (vr.TILE + vr.CAPTION_PX + vr.GAP_PX), 2 * cell_w)
    x = cell_w + vr.GAP_PX // 2
    assert png[10, x + 10] == 90 and png[10, vr.GAP_PX // 2 + 10] == 200
    assert png[0, vr.GAP_PX // 2] == 0 and png[0, 0] == 255  # the image's black, the gap's white


def test_no_mistakes():
    fig = vr.mistakes_figure([], NAMES)
    assert not fig.data and fig.layout.annotations[0].text == t("resv.mis.none", "en")


def test_topk_bars_most_likely_first():
    fig = vr.topk_figure([(3, 0.7), (1, 0.2), (0, 0.05)], NAMES)
    bar = fig.data[0]
    assert list(bar.y) == ["c3", "c1", "c0"] and list(bar.x) == [0.7, 0.2, 0.05]
    assert bar.text[0] == "70.0%"
