"""Strings of a finished run's results (``cnnviz.jobs.finished``): class names, the errors of a
run that cannot be evaluated, and the notes on how an upload was fitted."""

_FASHION = (("T-shirt/top", "T恤/上衣"), ("Trouser", "裤子"), ("Pullover", "套衫"), ("Dress", "连衣裙"),
            ("Coat", "外套"), ("Sandal", "凉鞋"), ("Shirt", "衬衫"), ("Sneaker", "运动鞋"), ("Bag", "包"),
            ("Ankle boot", "短靴"))
# cnnviz.train.data.synthetic_split's classes, in its order (rows grow downwards: 45° runs top-left to bottom-right)
_SYNTHETIC = (("horizontal bar", "横条"), ("vertical bar", "竖条"), ("diagonal bar \\", "斜条 \\"),
              ("diagonal bar /", "斜条 /"), ("ring", "圆环"), ("disc", "圆盘"), ("plus", "加号"), ("X", "叉号"),
              ("checkerboard", "棋盘格"), ("square outline", "方框"))

STRINGS = {
    **{f"res.class.fashion-mnist.{i}": pair for i, pair in enumerate(_FASHION)},
    **{f"res.class.mnist.{i}": (str(i), str(i)) for i in range(10)},
    **{f"res.class.synthetic.{i}": pair for i, pair in enumerate(_SYNTHETIC)},
    "res.err.unknown_run": (
        "no run {run_id!r} in the run store {db}",
        "运行记录库 {db} 中没有运行 {run_id!r}",
    ),
    "res.err.not_train": (
        "{run_id} is a lab job ({kind}), not a training run: only a training run has test results and a trained "
        "network to ask",
        "{run_id} 是实验任务（{kind}），不是训练运行：只有训练运行才有测试结果和可用的训练好的网络",
    ),
    "res.err.not_finished": (
        "run {run_id} is {status}: only a completed or stopped run has trained weights",
        "运行 {run_id} 的状态是 {status}：只有已完成或已停止的运行才有训练好的权重",
    ),
    "res.err.never_ran": (
        "run {run_id} was stopped before it started: it never trained",
        "运行 {run_id} 在开始前就被停止了：它从未训练",
    ),
    "res.err.evicted": (
        "the trained weights of run {run_id} are no longer kept: they were evicted, oldest first, to keep the "
        "weights folder under its total cap of {total_mb} MB (set CNNVIZ_WEIGHTS_MAX_MB to keep more); "
        "train the run again to get them back",
        "运行 {run_id} 训练好的权重已不再保存：为使权重文件夹不超过总上限 {total_mb} MB，最早的权重会先被清除"
        "（设置 CNNVIZ_WEIGHTS_MAX_MB 可保存更多）；重新训练该运行即可再次得到它们",
    ),
    "res.err.too_big": (
        "the trained weights of run {run_id} were never kept: at {mb} MB they are over the per-run cap of "
        "{run_mb} MB (set CNNVIZ_WEIGHTS_MAX_RUN_MB to raise it)",
        "运行 {run_id} 训练好的权重从未被保存：它们有 {mb} MB，超过了每次运行 {run_mb} MB 的上限"
        "（设置 CNNVIZ_WEIGHTS_MAX_RUN_MB 可提高上限）",
    ),
    "res.err.no_weights": (
        "run {run_id} has no trained weights: it finished before this server kept weights, or they could not be saved",
        "运行 {run_id} 没有训练好的权重：它在服务器开始保存权重之前就已结束，或权重未能保存",
    ),
    "res.err.weights_broken": (
        "the weights file of run {run_id} cannot be read ({error})",
        "无法读取运行 {run_id} 的权重文件（{error}）",
    ),
    "res.err.data_missing": (
        "the test images of run {run_id} ({dataset}) are not in {folder} now: its results cannot be recomputed here",
        "运行 {run_id} 的测试图像（{dataset}）现在不在 {folder} 中：无法在此重新计算其结果",
    ),
    "res.no_results": ("no results recorded for this run", "此运行没有记录结果"),
    "res.fit.square": ("square: resized as it is", "正方形：直接缩放"),
    "res.fit.letterboxed": (
        "not square: letterboxed (padded with its background to a square, nothing cut off)",
        "非正方形：已补边（用其背景色补成正方形，没有裁掉任何部分）",
    ),
    "res.fit.cropped": (
        "not square: cropped (the centre square kept, the edges cut off)",
        "非正方形：已裁剪（保留中间的正方形，裁掉边缘）",
    ),
    "res.fit.inverted": (
        "dark on light: inverted to light on dark, as the training images are",
        "浅底深色：已反色为深底浅色，与训练图像一致",
    ),
}
