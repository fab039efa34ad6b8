"""Datasets for training: Fashion-MNIST, MNIST and a built-in synthetic set, held in memory.

Every split is loaded once into two tensors, images ``uint8 [N, 28, 28]`` and labels
``int64 [N]``, and cached per (dataset, folder, split): no per-sample Python, no PIL. The
engine moves them to the training device once and turns each batch into the network's
input there (``prepare``: scale to [0, 1] as the book's ``ToTensor`` does, bilinear resize
with ``F.interpolate``, repeat the channel for RGB networks), instead of the book's
per-sample ``transforms.Resize`` in ``DataLoader`` workers.

Where the files live: ``data_dir()``, the ``CNNVIZ_DATA_DIR`` environment variable, else a
per-user cache folder (``$XDG_CACHE_HOME/cnnviz`` or ``~/.cache/cnnviz``), in torchvision's
raw layout (``<dir>/FashionMNIST/raw/train-images-idx3-ubyte`` ...). Missing files are
downloaded there by torchvision when the machine is online; when they are neither present
nor downloadable, ``load_data`` falls back to the synthetic set and says so in
``Data.notice`` (a ``CnnvizError`` built from a string key, so pages translate it).

Public API::

    DataConfig(dataset="synthetic"|"fashion-mnist"|"mnist", data_dir=None, subset=None, test_subset=None)
    load_data(cfg) -> Data                    # cached tensors + the notice, if any
    epoch_order(n, seed, epoch) -> LongTensor # the shuffle of one epoch, same on every device
    batches(x, y, batch_size, seed, epoch)    # yields (uint8 images, labels) slices, deterministic
    prepare(images, hw, in_channels, ...)     # uint8 [B, 28, 28] → float [B, C, H, W] on their device
    synthetic_split(n, seed) -> (images, labels)
"""

from __future__ import annotations

import math
import pathlib
import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

from cnnviz.errors import CnnvizError, ConfigError
from cnnviz.settings import data_dir

DATASETS = ("synthetic", "fashion-mnist", "mnist")
CLASSES = 10
SIDE = 28  # every dataset here is 28 × 28 grayscale
SYNTHETIC_SIZES = (6000, 1000)  # (train, test): a tenth of Fashion-MNIST, enough to learn the 10 shapes
MAX_SUBSET = 10_000_000

# torchvision class per dataset name (imported lazily: torchvision is slow to import)
_TV_NAMES = {"fashion-mnist": "FashionMNIST", "mnist": "MNIST"}
DISPLAY = {"synthetic": "synthetic", "fashion-mnist": "Fashion-MNIST", "mnist": "MNIST"}  # names in messages
_MIRROR_HOSTS = {"fashion-mnist": "fashion-mnist.s3-website.eu-central-1.amazonaws.com",
                 "mnist": "ossci-datasets.s3.amazonaws.com"}


class DataError(CnnvizError):
    """A dataset that cannot be found or read (the message names the folder)."""


class DataFallback(CnnvizError):
    """The notice that the synthetic set replaced ``dataset``; the reason is the ``DataError``."""

    def __init__(self, dataset: str, reason: DataError):
        self.dataset, self.reason = dataset, reason
        super().__init__("train.data.fallback", dataset=dataset)

    def render(self, lang: str = "en") -> str:
        from cnnviz.i18n import t

        return t("train.data.fallback", lang, dataset=self.dataset, reason=self.reason.render(lang))

    def to_dict(self) -> dict:
        """``{"code", "params"}`` of the fallback and of its reason, for the run store."""
        return {"code": self.code, "params": {"dataset": self.dataset},
                "reason": {"code": self.reason.code, "params": self.reason.params}}




@dataclass(frozen=True)
class DataConfig:
    """Which images to train on. The input size and channels come from the model's config."""

    dataset: str = "synthetic"
    data_dir: str | None = None  # None: ``data_dir()`` at load time
    subset: int | None = None  # train on this many examples (a fixed random subset); None: all
    test_subset: int | None = None  # evaluate on the first this-many test examples; None: all
    download: bool = True  # try torchvision's download when the files are missing
    seed: int = 0  # the synthetic set's generator and the subset's choice (not the run's seed)

    def __post_init__(self) -> None:
        if self.dataset not in DATASETS:
            raise ConfigError("err.choice", field="dataset", choices=", ".join(DATASETS), value=self.dataset)
        for name in ("subset", "test_subset"):
            v = getattr(self, name)
            if v is not None and not 1 <= v <= MAX_SUBSET:
                raise ConfigError("err.range", field=name, lo=1, hi=MAX_SUBSET, value=v)

    def root(self) -> pathlib.Path:
        """The folder this config reads from."""
        return pathlib.Path(self.data_dir).expanduser() if self.data_dir else data_dir()

    def to_dict(self) -> dict:
        return {"dataset": self.dataset, "data_dir": self.data_dir, "subset": self.subset,
                "test_subset": self.test_subset, "download": self.download, "seed": self.seed}


@dataclass(frozen=True)
class Data:
    """Both splits in memory. ``dataset`` is what was loaded (``synthetic`` after a fallback)."""

    train_x: torch.Tensor  # uint8 [N, 28, 28]
    train_y: torch.Tensor  # int64 [N]
    test_x: torch.Tensor  # uint8 [M, 28, 28]
    test_y: torch.Tensor  # int64 [M]
    dataset: str
    requested: str
    source: str  # the folder it came from, or "built-in"
    notice: DataFallback | None = None  # why the requested dataset was replaced, if it was


# --- loading -----------------------------------------------------------------------------
_CACHE: dict[tuple, Any] = {}  # (dataset, root, split) → (x, y); ("synthetic", seed) → both splits
_LOCK = threading.Lock()  # one loader at a time: concurrent runs share one copy of each split
_ONLINE: dict[str, tuple[float, bool]] = {}
_ONLINE_TTL_S = 300.0


def load_data(cfg: DataConfig) -> Data:
    """Both splits of ``cfg.dataset``, the synthetic set instead when the files are unavailable."""
    notice = None
    name, source = cfg.dataset, "built-in"
    if cfg.dataset == "synthetic":
        tr, te = _synthetic(cfg.seed)
    else:
        root = cfg.root()
        try:
            tr = load_split(cfg.dataset, root, True, cfg.download)
            te = load_split(cfg.dataset, root, False, cfg.download)
            source = str(root)
        except DataError as err:
            notice = DataFallback(DISPLAY[cfg.dataset], err)
            name = "synthetic"
            tr, te = _synthetic(cfg.seed)
    tx, ty = tr
    if cfg.subset is not None and cfg.subset < len(ty):
        # a fixed random subset (its own generator), so every run of a preset sees the same images
        g = torch.Generator().manual_seed(cfg.seed)
        keep = torch.randperm(len(ty), generator=g)[: cfg.subset].sort().values
        tx, ty = tx[keep], ty[keep]
    vx, vy = te
    if cfg.test_subset is not None:
        vx, vy = vx[: cfg.test_subset], vy[: cfg.test_subset]
    return Data(tx, ty, vx, vy, name, cfg.dataset, source, notice)


def raw_folder(dataset: str, root: pathlib.Path | str) -> pathlib.Path:
    """Where torchvision looks for ``dataset``'s raw IDX files under ``root``."""
    return pathlib.Path(root).expanduser() / _TV_NAMES[dataset] / "raw"


def load_split(dataset: str, root: pathlib.Path | str, train: bool,
               download: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """One split of a torchvision dataset as (uint8 [N, 28, 28], int64 [N]), cached per folder.

    Raises ``DataError`` when the files are missing and cannot be downloaded.
    """
    root = pathlib.Path(root).expanduser()
    key = (dataset, str(root.resolve()), bool(train))
    with _LOCK:
        if key not in _CACHE:
            _CACHE[key] = _read(dataset, root, train, download)
        return _CACHE[key]


def _read(dataset: str, root: pathlib.Path, train: bool, download: bool) -> tuple[torch.Tensor, torch.Tensor]:
    from torchvision import datasets

    cls = getattr(datasets, _TV_NAMES[dataset])
    try:
        ds = cls(str(root), train=train, download=False)
    except RuntimeError:  # torchvision: "Dataset not found"
        if not download:
            raise DataError("train.data.missing", dataset=DISPLAY[dataset], folder=str(root)) from None
        if not _online(_MIRROR_HOSTS[dataset]):
            raise DataError("train.data.offline", dataset=DISPLAY[dataset], folder=str(root)) from None
        try:
            ds = cls(str(root), train=train, download=True)
        except Exception as exc:  # network errors, read-only folder, bad checksum...
            raise DataError("train.data.download_failed", dataset=DISPLAY[dataset], folder=str(root),
                            error=str(exc)[:200]) from None
    x = ds.data.to(torch.uint8).contiguous()  # [N, 28, 28]
    y = torch.as_tensor(ds.targets, dtype=torch.int64).contiguous()
    if x.dim() != 3 or x.shape[1:] != (SIDE, SIDE) or len(x) != len(y) or len(y) == 0:
        raise DataError("train.data.bad_files", dataset=DISPLAY[dataset], folder=str(root))
    return x, y


def _online(host: str, timeout: float = 2.0) -> bool:
    """Whether ``host`` answers on 443 (remembered for a few minutes, so offline runs do not wait)."""
    now = time.monotonic()
    seen = _ONLINE.get(host)
    if seen and now - seen[0] < _ONLINE_TTL_S:
        return seen[1]
    try:
        with socket.create_connection((host, 443), timeout=timeout):
            ok = True
    except OSError:
        ok = False
    _ONLINE[host] = (now, ok)
    return ok


def available(dataset: str, root: pathlib.Path | str | None = None) -> bool:
    """Whether ``dataset``'s files are already in ``root`` (no download attempted)."""
    if dataset == "synthetic":
        return True
    root = pathlib.Path(root) if root else data_dir()
    raw = root / _TV_NAMES[dataset] / "raw"
    return all((raw / f"{s}-{k}-idx{d}-ubyte").is_file()
               for s in ("train", "t10k") for k, d in (("images", 3), ("labels", 1)))


# --- the synthetic set ---------------------------------------------------------------------
def _synthetic(seed: int):
    key = ("synthetic", seed)
    with _LOCK:
        if key not in _CACHE:
            n_train, n_test = SYNTHETIC_SIZES
            _CACHE[key] = (synthetic_split(n_train, seed * 2), synthetic_split(n_test, seed * 2 + 1))
        return _CACHE[key]


def synthetic_split(n: int, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """``n`` procedurally drawn 28 × 28 grayscale images of 10 shape classes, deterministic in ``seed``.

    Classes: 0–3 a horizontal bar, a vertical bar and the two diagonals; 4 a ring; 5 a disc; 6 a plus; 7 an X;
    8 a checkerboard patch; 9 a square outline. Every image gets its own position, size,
    rotation jitter (±12°), stroke width, brightness, background and Gaussian noise, so the
    classes are learnable (a LeNet gets far above chance within an epoch) but not trivial.
    """
    g = torch.Generator().manual_seed(int(seed))
    y = torch.arange(n) % CLASSES
    y = y[torch.randperm(n, generator=g)]  # balanced classes, shuffled

    def u(lo: float, hi: float) -> torch.Tensor:  # one value per image, broadcast over [n, 28, 28]
        return (lo + (hi - lo) * torch.rand(n, generator=g)).view(n, 1, 1)

    cx, cy, scale = u(-0.25, 0.25), u(-0.25, 0.25), u(0.65, 1.0)
    jitter, width, bright = u(-12, 12) * math.pi / 180, u(0.09, 0.16), u(0.6, 1.0)
    background, freq = u(0.0, 0.15), u(7.0, 10.0)
    line = torch.linspace(-1, 1, SIDE)
    yy, xx = line.view(1, SIDE, 1), line.view(1, 1, SIDE)
    cos, sin = torch.cos(jitter), torch.sin(jitter)
    # [n, 28, 28] coordinates in each image's own (shifted, rotated, scaled) frame
    px = ((xx - cx) * cos + (yy - cy) * sin) / scale
    py = (-(xx - cx) * sin + (yy - cy) * cos) / scale

    def soft(d: torch.Tensor) -> torch.Tensor:  # 1 inside (d < 0), 0 outside, antialiased edge
        return torch.sigmoid(-d / 0.04)

    def bar(px, py, w, deg: float) -> torch.Tensor:
        a = math.radians(deg)
        along, across = px * math.cos(a) + py * math.sin(a), -px * math.sin(a) + py * math.cos(a)
        return soft(across.abs() - w) * soft(along.abs() - 0.7)

    def radius(px, py) -> torch.Tensor:
        return torch.sqrt(px**2 + py**2)

    # each pattern gets the coordinates, stroke width and frequency of its own class's images
    patterns = [
        lambda px, py, w, f: bar(px, py, w, 0), lambda px, py, w, f: bar(px, py, w, 90),
        lambda px, py, w, f: bar(px, py, w, 45), lambda px, py, w, f: bar(px, py, w, 135),
        lambda px, py, w, f: soft((radius(px, py) - 0.55).abs() - w),  # ring
        lambda px, py, w, f: soft(radius(px, py) - 0.5),  # disc
        lambda px, py, w, f: torch.maximum(bar(px, py, w, 0), bar(px, py, w, 90)),  # plus
        lambda px, py, w, f: torch.maximum(bar(px, py, w, 45), bar(px, py, w, 135)),  # X
        lambda px, py, w, f: (0.5 + 0.5 * torch.tanh(4 * torch.sin(f * px) * torch.sin(f * py)))
        * soft(radius(px, py) - 0.75),  # checkerboard patch
        lambda px, py, w, f: soft((torch.maximum(px.abs(), py.abs()) - 0.5).abs() - w),  # square outline
    ]
    img = torch.zeros(n, SIDE, SIDE)
    for c, pattern in enumerate(patterns):
        idx = (y == c).nonzero().squeeze(1)
        img[idx] = pattern(px[idx], py[idx], width[idx], freq[idx])
    noise = 0.12 * torch.randn(n, SIDE, SIDE, generator=g)
    img = (background + bright * img + noise).clamp(0, 1)
    return (img * 255).round().to(torch.uint8), y.to(torch.int64)


# --- batches -------------------------------------------------------------------------------
def epoch_order(n: int, seed: int, epoch: int) -> torch.Tensor:
    """The example order of ``epoch``: a permutation from a CPU generator seeded by (seed, epoch).

    Stateless, so two runs (or a paired run) with the same seed see the same batches, and
    drawn on the CPU, so the order is the same on every device.
    """
    g = torch.Generator().manual_seed(int(seed) * 1_000_003 + int(epoch))
    return torch.randperm(n, generator=g)


def batches(x: torch.Tensor, y: torch.Tensor, batch_size: int, seed: int, epoch: int,
            shuffle: bool = True) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """(images, labels) batches of one epoch, in ``epoch_order``; the last one may be smaller.

    ``x`` and ``y`` may live on any device; the batches are gathered there.
    """
    n = len(y)
    order = epoch_order(n, seed, epoch) if shuffle else torch.arange(n)
    order = order.to(y.device)
    for i in range(0, n, batch_size):
        idx = order[i: i + batch_size]
        yield x.index_select(0, idx), y.index_select(0, idx)


def prepare(images: torch.Tensor, hw: tuple[int, int], in_channels: int = 1, dtype: torch.dtype = torch.float32,
            channels_last: bool = False) -> torch.Tensor:
    """uint8 [B, 28, 28] → ``dtype`` [B, C, H, W] in [0, 1], resized on the images' own device.

    Bilinear upsampling (as ``transforms.Resize`` does on PIL images); antialiased when
    shrinking. A 3-channel network gets the gray channel repeated.
    """
    x = images.unsqueeze(1).to(torch.float32).div_(255.0)  # [B, 1, 28, 28]
    h, w = int(hw[0]), int(hw[1])
    if (h, w) != tuple(x.shape[-2:]):
        shrink = h < x.shape[-2] or w < x.shape[-1]
        x = F.interpolate(x, size=(h, w), mode="bilinear", align_corners=False, antialias=shrink)
    if in_channels == 3:
        x = x.expand(-1, 3, -1, -1)
    x = x.to(dtype)
    if channels_last:
        return x.contiguous(memory_format=torch.channels_last)
    return x.contiguous()


# --- identity ------------------------------------------------------------------------------
_FINGERPRINTS: dict[tuple, str] = {}


def fingerprint(cfg: DataConfig) -> str:
    """What decides a run's images besides the config: a hash of the raw IDX files' contents
    (cached by their sizes and times), "synthetic:<generator version>" for the built-in set,
    or "missing:<dataset>" when the files are not on disk (the run will download them or fall
    back, and is keyed apart from a run on the real files)."""
    if cfg.dataset == "synthetic":
        return "synthetic:1"
    if not available(cfg.dataset, cfg.root()):
        return f"missing:{cfg.dataset}"
    raw = raw_folder(cfg.dataset, cfg.root())
    files = sorted(raw.glob("*-ubyte"))
    stat = tuple((f.name, f.stat().st_size, f.stat().st_mtime_ns) for f in files)
    key = (str(raw.resolve()), stat)
    with _LOCK:
        fp = _FINGERPRINTS.get(key)
    if fp is None:
        import hashlib

        h = hashlib.sha256()
        for f in files:
            h.update(f.name.encode())
            h.update(f.read_bytes())
        fp = f"{cfg.dataset}:{h.hexdigest()[:16]}"
        with _LOCK:
            _FINGERPRINTS[key] = fp
    return fp


def split_sizes(cfg: DataConfig) -> tuple[int, int]:
    """(train, test) images a run of ``cfg`` uses, read from the IDX headers (nothing loaded);
    the synthetic set's sizes when the files are not on disk (the run would fall back)."""
    import struct

    n_train, n_test = SYNTHETIC_SIZES
    if cfg.dataset != "synthetic" and available(cfg.dataset, cfg.root()):
        raw = raw_folder(cfg.dataset, cfg.root())
        try:
            with open(raw / "train-labels-idx1-ubyte", "rb") as f:
                n_train = struct.unpack(">II", f.read(8))[1]
            with open(raw / "t10k-labels-idx1-ubyte", "rb") as f:
                n_test = struct.unpack(">II", f.read(8))[1]
        except (OSError, struct.error):
            pass
    return min(n_train, cfg.subset or n_train), min(n_test, cfg.test_subset or n_test)
