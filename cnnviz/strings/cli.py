"""Strings of the command line's text output (``python -m cnnviz summary``)."""

STRINGS = {
    "cli.sum.title": (
        "{arch}  input {shape}  (shapes per example; N = batch)",
        "{arch}  输入 {shape}（形状按单个样本计；N = 批量）",
    ),
    "cli.sum.layer": ("layer", "层"),
    "cli.sum.type": ("type", "类型"),
    "cli.sum.output": ("output shape", "输出形状"),
    "cli.sum.params": ("params", "参数"),
    "cli.sum.macs": ("MACs", "乘加"),
    "cli.sum.rf": ("RF", "感受野"),
    "cli.sum.t.params": ("parameters            {n} ({size})", "参数                  {n}（{size}）"),
    "cli.sum.t.macs": ("multiply-accumulates  {n} per example", "乘加运算              每个样本 {n}"),
    "cli.sum.t.depth": (
        "depth                 {depth} layers with weights on the longest path ({conv} conv, {linear} linear in all)",
        "深度                  最长路径上有 {depth} 个带权重的层（共 {conv} 个卷积层、{linear} 个全连接层）",
    ),
    "cli.sum.t.acts": ("activations           {size} for a batch of {batch}", "激活值                批量为 {batch} 时共 {size}"),
    "cli.sum.t.step": (
        "training step         ~{size} (weights, gradients, momentum, activations)",
        "一个训练步            约 {size}（权重、梯度、动量、激活值）",
    ),
    "cli.sum.t.min": ("smallest input        {side}x{side}", "最小输入              {side}x{side}"),
}
