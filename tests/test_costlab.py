"""The cost lab's closed forms against hand arithmetic, torchinfo and ``cnnviz.inspect.trace``."""

from __future__ import annotations

import pytest

from cnnviz.errors import ConfigError
from cnnviz.inspect.tracing import trace
from cnnviz.labs.costlab import BOOK_BLOCK, conv_cost, inception_costs, nin_vs_alexnet, torchinfo_inception
from cnnviz.models.registry import get_config


def test_book_inception_block_matches_hand_arithmetic():
    c = inception_costs(**BOOK_BLOCK)  # 192 → 64, (96, 128), (16, 32), 32 at 28×28
    # weights, path by path
    p1 = 192 * 64  # 1×1
    p2 = 192 * 96 + 9 * 96 * 128  # 1×1 reduce, then 3×3
    p3 = 192 * 16 + 25 * 16 * 32  # 1×1 reduce, then 5×5
    p4 = 192 * 32  # pool, then 1×1
    assert (p1, p2, p3, p4) == (12_288, 129_024, 15_872, 6_144)
    assert [c.branches[k].weights for k in ("p1", "p2", "p3", "p4")] == [p1, p2, p3, p4]
    assert c.total.weights == 163_328  # the seed's "0.16M"
    assert c.total.macs == 163_328 * 28 * 28 == 128_049_152  # the seed's "128M"
    biases = 64 + 96 + 128 + 16 + 32 + 32
    assert c.total.params == 163_328 + biases == 163_696
    assert c.out_channels == 256
    # one conv with the same 256 outputs: the seed's 0.44M / 346M and 1.22M / 963M
    assert c.single[3].weights == 9 * 192 * 256 == 442_368
    assert c.single[3].macs == 442_368 * 784 == 346_816_512
    assert c.single[5].weights == 25 * 192 * 256 == 1_228_800
    assert c.single[5].macs == 1_228_800 * 784 == 963_379_200
    # without the 1×1 bottlenecks the 3×3 and 5×5 paths see all 192 channels
    assert c.no_bottleneck["p2"].weights == 9 * 192 * 128
    assert c.no_bottleneck["p3"].weights == 25 * 192 * 32
    assert c.total_no_bottleneck.weights == 12_288 + 221_184 + 153_600 + 6_144 == 393_216
    rows = {r["key"]: r for r in c.rows()}
    assert set(rows) == {"inception", "p1", "p2", "p3", "p4", "no_bottleneck", "conv3", "conv5"}
    assert rows["conv5"]["macs"] == 963_379_200


@pytest.mark.parametrize("spec", [
    BOOK_BLOCK,
    dict(cin=480, c1=192, c2=(96, 208), c3=(16, 48), c4=64, side=14),  # stage 4, block 1
    dict(cin=3, c1=1, c2=(2, 5), c3=(1, 7), c4=2, side=9),
])
def test_closed_form_agrees_with_torchinfo(spec):
    c = inception_costs(**spec)
    ti = torchinfo_inception(**spec)
    for path in ("p1", "p2", "p3", "p4"):
        assert ti[path] == (c.branches[path].params, c.branches[path].macs_torchinfo), path


def test_conv_cost_counts_one_mac_per_weight_per_output_pixel():
    c = conv_cost(3, 8, 5, 10, 12)
    assert (c.weights, c.biases, c.macs, c.macs_torchinfo) == (600, 8, 600 * 120, 608 * 120)


def test_nin_head_against_alexnet_head_matches_trace():
    h = nin_vs_alexnet(side=224)
    # AlexNet's dense head at 224: 6400 → 4096 → 4096 → 10
    assert h.alexnet_flat == 256 * 5 * 5 == 6400
    head = 6400 * 4096 + 4096 + 4096 * 4096 + 4096 + 4096 * 10 + 10
    assert h.alexnet_head.params == head == 43_040_778
    # NiN's last block: 3×3 conv 384 → 10, two 1×1 convs 10 → 10; GAP has no parameter
    assert h.nin_head.params == 9 * 384 * 10 + 10 + 2 * (10 * 10 + 10) == 34_790
    assert h.alexnet_head.params > 1000 * h.nin_head.params
    # the closed form agrees with the traced networks (torchinfo's counts)
    ta = trace(get_config("alexnet")).totals
    tn = trace(get_config("nin")).totals
    assert (h.alexnet_total.params, h.alexnet_total.macs_torchinfo) == (ta.params, ta.macs)
    assert (h.nin_total.params, h.nin_total.macs_torchinfo) == (tn.params, tn.macs)
    assert h.alexnet_head.params / h.alexnet_total.params > 0.9  # "~94 % of the parameters"


def test_nin_vs_alexnet_at_another_side_and_class_count():
    h = nin_vs_alexnet(side=96, in_channels=3, num_classes=100)
    ta = trace(get_config("alexnet", input_hw=(96, 96), in_channels=3, num_classes=100)).totals
    tn = trace(get_config("nin", input_hw=(96, 96), in_channels=3, num_classes=100)).totals
    assert h.alexnet_total.params == ta.params and h.nin_total.params == tn.params


def test_bad_values_are_config_errors():
    with pytest.raises(ConfigError):
        inception_costs(cin=0, c1=1, c2=(1, 1), c3=(1, 1), c4=1, side=8)
    with pytest.raises(ConfigError):
        inception_costs(cin=8, c1=1, c2=(1, 1), c3=(1, 1), c4=1, side=0)
    with pytest.raises(ConfigError) as info:
        nin_vs_alexnet(side=40)
    assert "alexnet" in str(info.value) and info.value.render("zh")
