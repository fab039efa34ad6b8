"""Datasets: the synthetic set, torchvision's real loader on IDX files, fallback, batching, resizing."""

from __future__ import annotations

import pytest
import torch

from cnnviz.errors import ConfigError
from cnnviz.train import data
from cnnviz.train.data import DataConfig, batches, epoch_order, load_data, prepare, synthetic_split

from training_helpers import write_idx


def test_synthetic_is_deterministic_balanced_and_seeded():
    x1, y1 = synthetic_split(500, seed=3)
    x2, y2 = synthetic_split(500, seed=3)
    x3, _ = synthetic_split(500, seed=4)
    assert x1.dtype == torch.uint8 and x1.shape == (500, 28, 28) and y1.dtype == torch.int64
    assert torch.equal(x1, x2) and torch.equal(y1, y2)
    assert not torch.equal(x1, x3)
    assert torch.bincount(y1, minlength=10).tolist() == [50] * 10
    # every class is drawn, with contrast: bright strokes on a dark, noisy background
    for c in range(10):
        imgs = x1[y1 == c].float()
        assert imgs.amax(dim=(1, 2)).min() > 150 and imgs.median() < 80


def test_synthetic_classes_differ_on_average():
    x, y = synthetic_split(1000, seed=0)
    means = torch.stack([x[y == c].float().mean(0) for c in range(10)])  # [10, 28, 28] class templates
    d = torch.cdist(means.flatten(1), means.flatten(1))
    assert d[~torch.eye(10, dtype=torch.bool)].min() > 100  # no two classes share a template


def test_loads_idx_files_through_torchvision(tmp_path):
    write_idx(tmp_path, "FashionMNIST", n_train=40, n_test=12)
    d = load_data(DataConfig("fashion-mnist", data_dir=str(tmp_path)))
    assert d.dataset == "fashion-mnist" and d.notice is None and d.source == str(tmp_path)
    assert d.train_x.shape == (40, 28, 28) and d.test_x.shape == (12, 28, 28)
    assert d.train_x.dtype == torch.uint8 and d.train_y.dtype == torch.int64
    x, y = synthetic_split(40, 5)
    assert torch.equal(d.train_x, x) and torch.equal(d.train_y, y)  # the bytes written are the bytes read
    again = load_data(DataConfig("fashion-mnist", data_dir=str(tmp_path)))
    assert again.train_x is d.train_x  # loaded once, cached per (dataset, folder, split)


def test_mnist_layout(tmp_path):
    write_idx(tmp_path, "MNIST", n_train=20, n_test=10)
    d = load_data(DataConfig("mnist", data_dir=str(tmp_path)))
    assert d.dataset == "mnist" and len(d.train_y) == 20


def test_shared_fashion_mnist(shared_data):
    d = load_data(DataConfig("fashion-mnist"))  # CNNVIZ_DATA_DIR points at the shared folder
    assert d.dataset == "fashion-mnist" and len(d.train_y) == 3443 and len(d.test_y) == 1000
    assert set(d.train_y.unique().tolist()) == set(range(10))


def test_missing_files_fall_back_to_synthetic_with_a_translated_notice(tmp_path):
    d = load_data(DataConfig("mnist", data_dir=str(tmp_path / "empty"), download=False))
    assert d.dataset == "synthetic" and d.requested == "mnist"
    assert d.notice is not None and d.notice.reason.code == "train.data.missing"
    en, zh = d.notice.render("en"), d.notice.render("zh")
    assert "MNIST" in en and "synthetic" in en and str(tmp_path / "empty") in en
    assert "合成" in zh and en != zh


def test_offline_download_is_not_attempted(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_online", lambda host, timeout=2.0: False)
    d = load_data(DataConfig("fashion-mnist", data_dir=str(tmp_path)))
    assert d.dataset == "synthetic" and d.notice.reason.code == "train.data.offline"


def test_failed_download_falls_back(tmp_path, monkeypatch):
    monkeypatch.setattr(data, "_online", lambda host, timeout=2.0: True)
    from torchvision import datasets

    def broken(self):
        raise RuntimeError("connection reset")

    monkeypatch.setattr(datasets.FashionMNIST, "download", broken)
    d = load_data(DataConfig("fashion-mnist", data_dir=str(tmp_path)))
    assert d.notice.reason.code == "train.data.download_failed" and "connection reset" in d.notice.render("en")


def test_subset_is_fixed_and_test_subset_takes_the_first(tmp_path):
    write_idx(tmp_path, n_train=100, n_test=30)
    cfg = DataConfig("fashion-mnist", data_dir=str(tmp_path), subset=25, test_subset=7)
    a, b = load_data(cfg), load_data(cfg)
    full = load_data(DataConfig("fashion-mnist", data_dir=str(tmp_path)))
    assert len(a.train_y) == 25 and torch.equal(a.train_x, b.train_x)
    assert torch.equal(a.test_x, full.test_x[:7])
    # the subset is a set of rows of the full split
    rows = {bytes(r.numpy()) for r in full.train_x}
    assert all(bytes(r.numpy()) in rows for r in a.train_x)


def test_bad_data_config():
    with pytest.raises(ConfigError):
        DataConfig("cifar10")
    with pytest.raises(ConfigError):
        DataConfig("synthetic", subset=0)


def test_data_dir_setting(monkeypatch, tmp_path):
    monkeypatch.setenv("CNNVIZ_DATA_DIR", str(tmp_path))
    assert data.data_dir() == tmp_path
    monkeypatch.delenv("CNNVIZ_DATA_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    assert data.data_dir() == tmp_path / "cache" / "cnnviz"
    assert DataConfig(data_dir=str(tmp_path / "x")).root() == tmp_path / "x"


def test_available(tmp_path):
    assert not data.available("fashion-mnist", tmp_path)
    write_idx(tmp_path)
    assert data.available("fashion-mnist", tmp_path) and data.available("synthetic")


def test_batches_cover_each_example_once_deterministically():
    x = torch.arange(10, dtype=torch.uint8).view(10, 1, 1).expand(10, 28, 28)
    y = torch.arange(10)
    got = list(batches(x, y, 4, seed=1, epoch=0))
    assert [len(b[1]) for b in got] == [4, 4, 2]  # the last batch is smaller (the book's drop_last=False)
    order = torch.cat([b[1] for b in got])
    assert sorted(order.tolist()) == list(range(10))
    assert torch.equal(got[0][0][:, 0, 0].long(), got[0][1])  # images stay with their labels
    again = torch.cat([b[1] for b in batches(x, y, 4, seed=1, epoch=0)])
    assert torch.equal(order, again)
    assert not torch.equal(epoch_order(100, 1, 0), epoch_order(100, 1, 1))  # a new shuffle each epoch
    assert not torch.equal(epoch_order(100, 1, 0), epoch_order(100, 2, 0))
    assert torch.equal(torch.cat([b[1] for b in batches(x, y, 3, 0, 0, shuffle=False)]), y)


def test_prepare_scales_resizes_and_repeats_channels():
    imgs = torch.zeros(2, 28, 28, dtype=torch.uint8)
    imgs[:, 10:18, 10:18] = 255
    x = prepare(imgs, (28, 28))
    assert x.shape == (2, 1, 28, 28) and x.dtype == torch.float32 and x.max() == 1.0 and x.min() == 0.0
    big = prepare(imgs, (96, 96), in_channels=3)
    assert big.shape == (2, 3, 96, 96)
    assert torch.equal(big[:, 0], big[:, 2]) and 0.0 <= big.min() and big.max() <= 1.0
    assert big[0, 0, 48, 48] == 1.0 and big[0, 0, 5, 5] == 0.0  # the square stays in the middle
    small = prepare(imgs, (14, 14))
    assert small.shape == (2, 1, 14, 14) and 0.0 < small.mean() < 1.0
    cl = prepare(imgs, (32, 32), in_channels=3, channels_last=True)
    assert cl.is_contiguous(memory_format=torch.channels_last)
    assert torch.allclose(prepare(imgs, (40, 24)).mean(), x.mean(), atol=0.02)  # non-square sides work
