"""Strings of the command line's text output (``python -m cnnviz summary``, ``train``, ``evaluate``, ``predict``)."""

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
    "cli.train.recorded": ("recorded as run {run_id} in {db}", "已记录为运行 {run_id}，位于 {db}"),
    "cli.train.weights.kept": (
        "its trained weights are kept: python -m cnnviz evaluate {run_id}; python -m cnnviz predict {run_id} IMAGE",
        "其训练好的权重已保存：python -m cnnviz evaluate {run_id}；python -m cnnviz predict {run_id} IMAGE",
    ),
    "cli.train.weights.too_big": (
        "its trained weights ({mb} MB) are over the per-run cap and were not kept (CNNVIZ_WEIGHTS_MAX_RUN_MB)",
        "其训练好的权重（{mb} MB）超过每次运行的上限，未被保存（CNNVIZ_WEIGHTS_MAX_RUN_MB）",
    ),
    "cli.eval.title": (
        "run {run_id}: {arch} on {dataset}, {n} test images, accuracy {acc:.2%}",
        "运行 {run_id}：{arch}，数据集 {dataset}，{n} 张测试图像，准确率 {acc:.2%}",
    ),
    "cli.eval.recorded": ("(the run recorded {acc:.2%} as it ended)", "（运行结束时记录的准确率为 {acc:.2%}）"),
    "cli.eval.per_class": ("per-class accuracy (recall):", "各类准确率（召回率）："),
    "cli.eval.none": ("no test image", "无测试图像"),
    "cli.eval.confusion": ("confusion matrix (rows: true class, columns: predicted):",
                           "混淆矩阵（行：真实类别，列：预测类别）："),
    "cli.pred.title": ("run {run_id} ({arch}, {dataset}) on {image}:", "运行 {run_id}（{arch}，{dataset}）对 {image} 的预测："),
    "cli.err.image_unreadable": ("cannot read the image {path}: {error}", "无法读取图像 {path}：{error}"),
}
