"""``predict RUN_ID IMAGE``: a recorded training run's top-k classes for a PNG/JPEG, with their
probabilities (text, or ``--json``).

The image goes through the upload rules of the app (``cnnviz.jobs.finished.fit_image``: PNG or
JPEG only, size and pixel caps, an intact file); a picture of another shape than the network's
input is letterboxed (``--fit letterbox``, the default) or cropped (``--fit crop``), and dark on
light is inverted, each said in the output. Errors (an unknown run, evicted weights, an
unreadable image...) are one line on stderr, exit status 2.
"""

from __future__ import annotations

import argparse
import json

from cnnviz.cli.evaluate import open_run
from cnnviz.i18n import t

COMMAND = "predict"
HELP = "a recorded training run's top-k classes for an image (PNG/JPEG), with probabilities"


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("run_id", help="the run's id (printed by `train`: its end event's run_id)")
    p.add_argument("image", help="a PNG or JPEG file")
    p.add_argument("--k", type=_positive, default=3, help="how many classes (default 3)")
    p.add_argument("--fit", choices=("letterbox", "crop"), default="letterbox",
                   help="a non-square image: padded with its background (letterbox) or cut to its centre (crop)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--db", default=None, help="run store (default: $CNNVIZ_DB or the data folder's)")


def read_image(path: str) -> bytes:
    """The file's bytes, at most one past the upload cap (``fit_image`` refuses a larger one)."""
    from cnnviz.labs.images import MAX_UPLOAD_BYTES, UploadError

    try:
        with open(path, "rb") as f:
            return f.read(MAX_UPLOAD_BYTES + 1)
    except OSError as err:
        raise UploadError("cli.err.image_unreadable", path=path, error=err.strerror or type(err).__name__) from None


def run(args: argparse.Namespace) -> int:
    from cnnviz.jobs.finished import class_names, fit_image, predict

    run_, _ = open_run(args.run_id, args.db)
    m = run_.cfg.model
    fitted = fit_image(read_image(args.image), m.input_hw, "L" if m.in_channels == 1 else "RGB", fit=args.fit)
    top = predict(run_, fitted.x, k=args.k)
    dataset = run_.info.summary.get("dataset") or run_.cfg.data.dataset
    names = class_names(dataset)
    if args.json:
        print(json.dumps({"run_id": run_.info.id, "dataset": dataset, "image": args.image, "fit": fitted.shape,
                          "inverted": fitted.inverted, "notes": fitted.notes(),
                          "top": [{"class": c, "name": names[c], "prob": p} for c, p in top]}))
        return 0
    print(t("cli.pred.title", run_id=run_.info.id, arch=run_.cfg.arch, dataset=dataset, image=args.image))
    for c, p in top:
        print(f"  {p:7.2%}  {c}  {names[c]}")
    for note in fitted.notes():
        print(f"note: {note}")
    return 0


def _positive(text: str) -> int:
    k = int(text)  # a ValueError is argparse's "invalid _positive value"
    if k < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, not {k}")
    return k
