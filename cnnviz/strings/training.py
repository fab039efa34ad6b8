"""Strings of training: datasets, the engine's messages, the run manager, the training page and CLI."""

STRINGS = {
    # --- navigation -----------------------------------------------------------------------
    "nav.training": ("Train a network", "训练网络"),
    # --- datasets -------------------------------------------------------------------------
    "train.data.synthetic": ("Synthetic shapes (built in)", "合成图形（内置）"),
    "train.data.fashion-mnist": ("Fashion-MNIST", "Fashion-MNIST"),
    "train.data.mnist": ("MNIST", "MNIST"),
    "train.data.missing": (
        "{dataset} is not in {folder} and downloading is off",
        "{folder} 中没有 {dataset}，且未开启下载",
    ),
    "train.data.offline": (
        "{dataset} is not in {folder} and this machine cannot reach the download server",
        "{folder} 中没有 {dataset}，而且本机无法连接下载服务器",
    ),
    "train.data.download_failed": (
        "{dataset} could not be downloaded into {folder}: {error}",
        "无法把 {dataset} 下载到 {folder}：{error}",
    ),
    "train.data.bad_files": ("the {dataset} files in {folder} are not 28×28 images with labels", "{folder} 中的 {dataset} 文件不是带标签的 28×28 图像"),
    "train.data.named_missing": (
        "{reason}: put torchvision's raw {dataset} files in {raw} (or point --data-dir / CNNVIZ_DATA_DIR at their "
        "folder), or train on --dataset synthetic",
        "{reason}：请把 torchvision 原始格式的 {dataset} 文件放到 {raw}（或用 --data-dir / CNNVIZ_DATA_DIR 指向其所在文件夹），"
        "或改用 --dataset synthetic 训练",
    ),
    "train.data.fallback": (
        "{reason}; training on the built-in synthetic shapes instead (set CNNVIZ_DATA_DIR to a folder holding {dataset})",
        "{reason}；改用内置的合成图形数据集训练（可将 CNNVIZ_DATA_DIR 设为存放 {dataset} 的文件夹）",
    ),
    # --- engine -----------------------------------------------------------------------------
    "train.err.lr": ("the learning rate must be a positive number, got {value}", "学习率必须是正数，收到的是 {value}"),
    "train.err.positive": ("{field} must be positive, got {value}", "{field} 必须为正数，收到的是 {value}"),
    "train.err.no_device": ("device {device!r} is not available on this machine", "本机没有可用的设备 {device!r}"),
    "train.err.fp16_cuda": (
        "fp16 mixed precision needs a CUDA GPU; {device} trains in fp32 or bf16",
        "fp16 混合精度需要 CUDA GPU；{device} 上请用 fp32 或 bf16",
    ),
    "train.err.memory": (
        "this run needs about {need} on {device} but only {free} is free: lower the batch size, the input side or the width",
        "本次训练在 {device} 上约需 {need}，但只有 {free} 可用：请减小批量大小、输入边长或网络宽度",
    ),
    "train.failed": ("the run failed: {error}", "训练失败：{error}"),
    "train.stopped": ("stopped at step {step}", "已在第 {step} 步停止"),
    "train.diverged": (
        "diverged at step {step}: the loss became {loss:.4g} (learning rate {lr:g}); try a smaller learning rate",
        "在第 {step} 步发散：损失变为 {loss:.4g}（学习率 {lr:g}）；请尝试更小的学习率",
    ),
    "train.budget_reached": (
        "time budget of {budget:g} s reached at epoch {epoch:.2f}; test accuracy {acc:.1%}",
        "在第 {epoch:.2f} 轮用完 {budget:g} 秒的时间预算；测试准确率 {acc:.1%}",
    ),
    "train.completed": (
        "completed {epoch:.3g} epochs ({step} steps); test accuracy {acc:.1%}",
        "完成 {epoch:.3g} 轮（{step} 步）；测试准确率 {acc:.1%}",
    ),
    # --- run manager ------------------------------------------------------------------------
    "train.runs.interrupted": (
        "interrupted: the server stopped while this run was queued or running",
        "已中断：服务器在本次训练排队或运行时停止了",
    ),
    "train.runs.stopped_queued": ("stopped before it started", "在开始之前已停止"),
    "train.runs.unknown": ("there is no run {run_id!r} (it may have been deleted)", "不存在训练记录 {run_id!r}（可能已被删除）"),
    "train.runs.no_end": ("the run ended without reporting how", "训练结束，但没有报告结束方式"),
    "train.err.no_recipe": ("there is no {kind!r} training recipe for {arch}", "{arch} 没有 {kind!r} 训练方案"),
    # --- charts ---------------------------------------------------------------------------
    "train.chart.loss": ("Training loss", "训练损失"),
    "train.chart.accuracy": ("Accuracy", "准确率"),
    "train.chart.train_loss": ("train loss", "训练损失"),
    "train.chart.train_acc": ("train acc", "训练准确率"),
    "train.chart.test_acc": ("test acc", "测试准确率"),
    "train.chart.test_acc_subset": ("test acc (subset)", "测试准确率（子集）"),
    "train.chart.epoch": ("epoch", "轮次"),
    "train.chart.step": ("step", "步"),
    "train.chart.grad_norm": ("‖∂loss/∂W‖₂", "‖∂loss/∂W‖₂"),
    "train.chart.grad_latest": ("Gradient norm per layer at step {step}", "第 {step} 步各层的梯度范数"),
    "train.chart.grad_heatmap": ("Gradient norm per layer over training (log₁₀)", "训练过程中各层的梯度范数（log₁₀）"),
    "train.chart.grad_hover": ("layer %{y}<br>step %{x}<br>log₁₀ norm %{z:.2f}", "层 %{y}<br>第 %{x} 步<br>log₁₀ 范数 %{z:.2f}"),
    "train.runs.store_error": ("the run store cannot be opened: {error}", "无法打开训练记录库：{error}"),
    # --- training page ----------------------------------------------------------------------
    "train.title": ("Train a network", "训练网络"),
    "train.intro": (
        "Train any network of the chapter on Fashion-MNIST (or MNIST, or built-in synthetic shapes) and watch "
        "loss, accuracy and per-layer gradient norms live. Runs continue in the background: reload the page "
        "and it reattaches through the run id in the address.",
        "在 Fashion-MNIST（或 MNIST、内置合成图形）上训练本章的任意网络，实时观察损失、准确率和各层梯度范数。"
        "训练在后台进行：刷新页面后会通过地址中的运行编号重新连接。",
    ),
    "train.new": ("New run", "新的训练"),
    "train.f.arch": ("Architecture", "架构"),
    "train.f.recipe_book": ("Book recipe", "书中方案"),
    "train.f.recipe_book.help": (
        "The book's learning rate, batch size and resize, 10 epochs on Fashion-MNIST: meant for a GPU",
        "书中的学习率、批量大小与缩放尺寸，在 Fashion-MNIST 上训练 10 轮：适合 GPU",
    ),
    "train.f.recipe_class": ("Class-period recipe", "课堂方案"),
    "train.f.recipe_class.help": (
        "Smaller input and width, a 5,000-image subset: about a minute or less on a laptop CPU",
        "更小的输入和宽度，5000 张图像的子集：在笔记本 CPU 上约一分钟以内完成",
    ),
    "train.f.bn": ("BatchNorm", "批量规范化"),
    "train.f.residual": ("Residual connections", "残差连接"),
    "train.f.residual.na": ("only ResNet has residual connections", "只有 ResNet 有残差连接"),
    "train.f.width_div": ("Width ÷", "宽度 ÷"),
    "train.f.dropout": ("Dropout", "暂退概率"),
    "train.f.side": ("Input side (px)", "输入边长（像素）"),
    "train.f.dataset": ("Dataset", "数据集"),
    "train.f.dataset_missing": (
        "{dataset} is not in the data folder yet: it is downloaded at start when the machine is online, "
        "otherwise the run uses the synthetic shapes and says so.",
        "数据文件夹中还没有 {dataset}：联网时会在开始训练时下载，否则将改用合成图形并给出提示。",
    ),
    "train.f.subset": ("Training images (0 = all)", "训练图像数（0 = 全部）"),
    "train.f.subset.help": ("a fixed random subset of the training split", "训练集中一个固定的随机子集"),
    "train.f.device": ("Device", "设备"),
    "train.f.seed": ("Seed", "随机种子"),
    "train.f.budget": ("Time budget (s, 0 = none)", "时间预算（秒，0 = 不限）"),
    "train.f.budget.help": (
        "end the run, as completed, once this much time has passed",
        "用完这段时间后结束训练（视为完成）",
    ),
    "train.f.optimizer": ("Optimiser", "优化器"),
    "train.recipe_applied": (
        "{recipe} for {arch}: {side} px, {epochs} epochs, lr {lr}, batch {bs}",
        "已为 {arch} 应用{recipe}：{side} 像素，{epochs} 轮，学习率 {lr}，批量 {bs}",
    ),
    "train.run.title": ("{arch} · {data} · {side} px · {opt} lr {lr} · batch {bs}",
                    "{arch} · {data} · {side} 像素 · {opt} 学习率 {lr} · 批量 {bs}"),
    "train.run.bn_on": ("with BN", "加 BN"),
    "train.run.bn_off": ("no BN", "无 BN"),
    "train.run.plain": ("no skips", "无残差连接"),
    "train.opt.sgd": ("SGD", "SGD"),
    "train.opt.adam": ("Adam", "Adam"),
    "train.f.lr": ("Learning rate", "学习率"),
    "train.f.momentum": ("Momentum", "动量"),
    "train.f.weight_decay": ("Weight decay", "权重衰减"),
    "train.f.batch": ("Batch size", "批量大小"),
    "train.f.epochs": ("Epochs", "轮数"),
    "train.est.memory": ("Memory needed", "所需内存"),
    "train.est.memory.help": (
        "weights, gradients, optimiser state, one batch's activations and the dataset, in float32 (an upper "
        "bound under mixed precision); {free} free on {device}",
        "权重、梯度、优化器状态、一个批量的激活值以及数据集，按 float32 计算（混合精度下为上限）；{device} 上可用 {free}",
    ),
    "train.est.time": ("Estimated time", "预计用时"),
    "train.est.images": ("Training images", "训练图像"),
    "train.est.images.help": ("and {test} test images", "另有 {test} 张测试图像"),
    "train.start": ("Start training", "开始训练"),
    "train.stop": ("Stop", "停止"),
    "train.run.forget": ("Clear", "清除"),
    "train.run.progress": (
        "{status} · step {step} of {total} · epoch {epoch:.2f} · ETA {eta}",
        "{status} · 第 {step}/{total} 步 · 第 {epoch:.2f} 轮 · 预计剩余 {eta}",
    ),
    "train.run.rate": ("Images / s", "图像/秒"),
    "train.run.loss": ("Training loss", "训练损失"),
    "train.run.train_acc": ("Training accuracy", "训练准确率"),
    "train.run.test_acc": ("Test accuracy", "测试准确率"),
    "train.run.waiting": ("Loading the data and building the network…", "正在加载数据并构建网络……"),
    "train.status.queued": ("queued", "排队中"),
    "train.status.running": ("running", "运行中"),
    "train.status.completed": ("completed", "已完成"),
    "train.status.stopped": ("stopped", "已停止"),
    "train.status.diverged": ("diverged", "已发散"),
    "train.status.failed": ("failed", "失败"),
    "train.status.interrupted": ("interrupted", "已中断"),
    "train.grad.latest": ("Gradient norms, latest", "最新梯度范数"),
    "train.grad.heatmap": ("Gradient norms over time", "梯度范数随时间变化"),
    "train.grad.caption": (
        "L2 norm of each conv/linear weight's gradient, input layers first. Without residual connections the "
        "lower layers of a deep net get far smaller gradients (§6.4).",
        "每个卷积层/全连接层权重梯度的 L2 范数，靠近输入的层在前。没有残差连接时，深层网络中靠下的层得到的梯度要小得多（§6.4）。",
    ),
    "train.hist.title": ("My runs (the whole class's are on the class board)", "我的训练（全班的训练见班级看板）"),
    "train.hist.empty": ("No runs yet.", "还没有训练记录。"),
    "train.hist.run": ("Run", "训练"),
    "train.hist.status": ("Status", "状态"),
    "train.hist.test_acc": ("Test accuracy", "测试准确率"),
    "train.hist.epoch": ("Epochs", "轮数"),
    "train.hist.created": ("Started", "开始时间"),
    "train.hist.overlay": ("Overlay runs on the same axes", "在同一坐标系中叠加多次训练"),
    "train.hist.overlay.placeholder": ("Choose runs", "选择要叠加的训练"),
    "train.hist.pick": ("Run", "训练"),
    "train.hist.open": ("Show", "查看"),
    "train.hist.csv": ("Metrics as CSV", "导出指标 CSV"),
    "train.hist.delete": ("Delete", "删除"),
}
