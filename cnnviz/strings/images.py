"""Strings of the one bounded way in for images (``cnnviz.labs.images``): the refusals added to the
upload ones (``err.upload.*`` in ``labs.py``) and the drawing canvas's."""

STRINGS = {
    "err.upload.shape": (
        "the image is {w:,} × {h:,} pixels; its long side may be at most {side:,} pixels and its sides "
        "at most {ratio}:1",
        "图片为 {w:,} × {h:,} 像素；长边最多 {side:,} 像素，长宽比最多 {ratio}:1",
    ),
    "err.drawing.unreadable": (
        "the drawing could not be read: the canvas did not send a PNG image; clear it and draw again",
        "无法读取这幅画：画布发送的不是 PNG 图片；请清空后重画",
    ),
    "err.drawing.too_large": (
        "the drawing sent is about {kb:,} KB; a drawing may be at most {cap:,} KB",
        "发送的画约为 {kb:,} KB；一幅画最多 {cap:,} KB",
    ),
}
