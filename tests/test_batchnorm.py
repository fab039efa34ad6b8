"""The seed's from-scratch BatchNorm (``cnnviz.models.layers.BatchNorm``) against PyTorch's layers."""

from __future__ import annotations

import pytest
import torch
from torch import nn

from cnnviz import create_model, get_config
from cnnviz.models.layers import BatchNorm

ATOL = 1e-5


def _pair(num_dims: int, c: int, momentum: float = 0.1):
    """A scratch layer and PyTorch's, with the same random gamma/beta."""
    torch.manual_seed(1)
    ref = nn.BatchNorm1d(c, momentum=momentum) if num_dims == 2 else nn.BatchNorm2d(c, momentum=momentum)
    mine = BatchNorm(c, num_dims, momentum=momentum)
    with torch.no_grad():
        ref.weight.copy_(torch.rand(c) + 0.5)
        ref.bias.copy_(torch.randn(c))
        mine.gamma.copy_(ref.weight.view_as(mine.gamma))
        mine.beta.copy_(ref.bias.view_as(mine.beta))
    return mine, ref


def _batch(num_dims: int, n: int, c: int, step: int) -> torch.Tensor:
    g = torch.Generator().manual_seed(100 + step)
    shape = (n, c) if num_dims == 2 else (n, c, 5, 7)
    # a different mean and scale per step, so the running statistics have something to track
    return torch.randn(shape, generator=g) * (1 + step) + 3 * step - 2


def _assert_running_equal(mine: BatchNorm, ref: nn.modules.batchnorm._BatchNorm) -> None:
    assert torch.allclose(mine.moving_mean.flatten(), ref.running_mean, atol=ATOL)
    assert torch.allclose(mine.moving_var.flatten(), ref.running_var, atol=ATOL, rtol=1e-5)


@pytest.mark.parametrize("num_dims, n", [(4, 4), (2, 8), (2, 2), (4, 1)])
@pytest.mark.parametrize("momentum", [0.1, 0.3])
def test_matches_torch_in_training_and_eval(num_dims, n, momentum):
    c = 6
    mine, ref = _pair(num_dims, c, momentum)
    mine.train(), ref.train()
    for step in range(5):
        x = _batch(num_dims, n, c, step)
        assert torch.allclose(mine(x), ref(x), atol=ATOL)
        _assert_running_equal(mine, ref)
    # the statistics moved away from their (0, 1) start
    assert not torch.allclose(ref.running_mean, torch.zeros(c))
    mine.eval(), ref.eval()
    for step in range(5, 7):
        x = _batch(num_dims, n, c, step)
        assert torch.allclose(mine(x), ref(x), atol=ATOL)
    _assert_running_equal(mine, ref)  # eval does not touch them


def test_gradients_match_torch():
    mine, ref = _pair(4, 3)
    x1 = _batch(4, 4, 3, 0).requires_grad_(True)
    x2 = x1.detach().clone().requires_grad_(True)
    w = torch.randn(4, 3, 5, 7)
    (mine(x1) * w).sum().backward()
    (ref(x2) * w).sum().backward()
    assert torch.allclose(x1.grad, x2.grad, atol=1e-4)
    assert torch.allclose(mine.gamma.grad.flatten(), ref.weight.grad, atol=1e-4)
    assert torch.allclose(mine.beta.grad.flatten(), ref.bias.grad, atol=1e-4)


def test_eval_uses_running_statistics_even_with_gradients_on():
    """The seed switched on ``torch.is_grad_enabled()``; the layer follows ``self.training``."""
    mine, _ = _pair(2, 4)
    with torch.no_grad():
        mine.moving_mean.fill_(2.0)
        mine.moving_var.fill_(4.0)
        mine.gamma.fill_(1.0)
        mine.beta.fill_(0.0)
    mine.eval()
    x = torch.full((3, 4), 6.0, requires_grad=True)
    assert torch.is_grad_enabled()
    y = mine(x)
    assert torch.allclose(y, torch.full((3, 4), 4.0 / (4.0 + 1e-5) ** 0.5))
    assert torch.equal(mine.moving_mean, torch.full((1, 4), 2.0))  # not updated in eval mode


def test_training_mode_uses_batch_statistics_even_without_gradients():
    mine, _ = _pair(2, 4)
    mine.train()
    with torch.no_grad():
        y = mine(_batch(2, 16, 4, 3))
    # normalised per feature: mean beta, spread gamma
    assert torch.allclose(y.mean(0), mine.beta.flatten(), atol=1e-4)


def test_running_statistics_are_buffers():
    bn = BatchNorm(5, 4)
    assert {n for n, _ in bn.named_buffers()} == {"moving_mean", "moving_var"}
    assert {n for n, _ in bn.named_parameters()} == {"gamma", "beta"}
    assert set(bn.state_dict()) == {"gamma", "beta", "moving_mean", "moving_var"}
    assert bn.gamma.shape == bn.moving_var.shape == (1, 5, 1, 1)
    assert BatchNorm(5, 2).gamma.shape == (1, 5)


# --- a whole LeNet: scratch vs torch -------------------------------------------------------------
def _copy_torch_to_scratch(src: nn.Module, dst: nn.Module) -> None:
    """Load the torch-BN LeNet's state into the scratch one: weight/bias/running_* → gamma/beta/moving_*."""
    rename = {"weight": "gamma", "bias": "beta", "running_mean": "moving_mean", "running_var": "moving_var"}
    bn_prefixes = {name + "." for name, m in src.named_modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)}
    target = dst.state_dict()
    state = {}
    for key, value in src.state_dict().items():
        prefix = next((p for p in bn_prefixes if key.startswith(p)), None)
        if prefix is None:
            state[key] = value
            continue
        leaf = key[len(prefix):]
        if leaf == "num_batches_tracked":
            continue
        new_key = prefix + rename[leaf]
        state[new_key] = value.reshape(target[new_key].shape)
    dst.load_state_dict(state, strict=True)


def _lenets():
    torch.manual_seed(0)
    ref = create_model(get_config("lenet", bn_impl="torch"))
    mine = create_model(get_config("lenet", bn_impl="scratch"))
    with torch.no_grad():  # non-trivial affine parameters
        for m in ref.modules():
            if isinstance(m, nn.modules.batchnorm._BatchNorm):
                m.weight.uniform_(0.5, 1.5)
                m.bias.normal_()
    _copy_torch_to_scratch(ref, mine)
    assert sum(isinstance(m, BatchNorm) for m in mine.modules()) == 4
    assert not any(isinstance(m, nn.modules.batchnorm._BatchNorm) for m in mine.modules())
    return mine, ref


@pytest.mark.slow  # LeNet trained twice
def test_lenet_scratch_matches_torch_in_train_and_eval():
    mine, ref = _lenets()
    opt_args = dict(lr=0.5)
    opt_a = torch.optim.SGD(mine.parameters(), **opt_args)
    opt_b = torch.optim.SGD(ref.parameters(), **opt_args)
    mine.train(), ref.train()
    g = torch.Generator().manual_seed(7)
    for _ in range(3):  # a few training steps: forward, loss, backward, update on both
        x = torch.rand(8, 1, 28, 28, generator=g)
        y = torch.randint(0, 10, (8,), generator=g)
        out_a, out_b = mine(x), ref(x)
        assert torch.allclose(out_a, out_b, atol=1e-5)
        for opt, out in ((opt_a, out_a), (opt_b, out_b)):
            opt.zero_grad()
            nn.functional.cross_entropy(out, y).backward()
            opt.step()
    bns_a = [m for m in mine.modules() if isinstance(m, BatchNorm)]
    bns_b = [m for m in ref.modules() if isinstance(m, nn.modules.batchnorm._BatchNorm)]
    for a, b in zip(bns_a, bns_b):
        _assert_running_equal(a, b)
        assert torch.allclose(a.gamma.flatten(), b.weight, atol=1e-5)
    mine.eval(), ref.eval()
    x = torch.rand(5, 1, 28, 28, generator=g)
    assert torch.allclose(mine(x), ref(x), atol=1e-5)
    # and eval differs from train mode: the running statistics are really used
    mine.train()
    with torch.no_grad():
        assert not torch.allclose(mine(x), ref(x), atol=1e-3)
