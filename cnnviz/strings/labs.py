"""Strings of the chapter labs: gradient flow, BatchNorm, Inception/NiN costs, feature maps."""

STRINGS = {
    # --- navigation
    "nav.gradflow": ("Gradient flow (ResNet)", "梯度流（ResNet）"),
    "nav.batchnorm": ("BatchNorm lab", "批量规范化实验"),
    "nav.costlab": ("Inception & NiN costs", "Inception 与 NiN 的开销"),
    "nav.featuremaps": ("Feature maps", "特征图"),
    # --- shared by the labs
    "lab.variant.plain": ("plain (no skips)", "普通网络（无跳连）"),
    "lab.variant.residual": ("residual", "残差网络"),
    "lab.variant.no_bn": ("LeNet without BN", "不带 BN 的 LeNet"),
    "lab.variant.bn": ("LeNet with BN", "带 BN 的 LeNet"),
    "lab.variant.model": ("model", "模型"),
    "lab.step_axis": ("training step", "训练步数"),
    "lab.step_n": ("step {step}", "第 {step} 步"),
    "lab.metric.loss": ("training loss", "训练损失"),
    "lab.metric.loss.title": ("Loss of both variants", "两个变体的损失"),
    "lab.metric.train_acc": ("training accuracy", "训练准确率"),
    "lab.metric.train_acc.title": ("Training accuracy of both variants", "两个变体的训练准确率"),
    "lab.run": ("Run", "运行"),
    "lab.stop": ("Stop", "停止"),
    "lab.advanced": ("More settings", "更多设置"),
    "lab.seed": ("Seed", "随机种子"),
    "lab.lr": ("Learning rate (SGD)", "学习率（SGD）"),
    "lab.batch_size": ("Batch size", "批量大小"),
    "lab.steps": ("Training steps", "训练步数"),
    "lab.dataset": ("Dataset", "数据集"),
    "lab.data.synthetic": ("Synthetic shapes (built in)", "合成图形（内置）"),
    "lab.data.fashion-mnist": ("Fashion-MNIST", "Fashion-MNIST"),
    "lab.data.mnist": ("MNIST", "MNIST"),
    "lab.status.queued": ("Queued…", "排队中……"),
    "lab.status.running": ("Training: step {step} of {total}", "训练中：第 {step} / {total} 步"),
    "lab.status.done": ("Finished: {steps} steps in {seconds:.1f} s", "已完成：{steps} 步，用时 {seconds:.1f} 秒"),
    "lab.status.stopped": ("Stopped after {steps} steps", "已在 {steps} 步后停止"),
    "lab.status.failed": ("The run failed: {error}", "运行失败：{error}"),
    "lab.status.interrupted": (
        "The run was interrupted ({message}); press Run to start it again",
        "运行被中断（{message}）；点击“运行”重新开始",
    ),
    "lab.variant_ended": ("{variant}: {message}", "{variant}: {message}"),
    "lab.none_yet": ("Press Run to train both variants side by side.", "点击“运行”，并排训练两个变体。"),
    "lab.paired_note": (
        "Paired run: both variants start from the same weights (every entry whose name and shape match is "
        "copied), see the same batches in the same order, and take their steps in lock-step.",
        "成对运行：两个变体从相同的权重出发（名称和形状一致的参数全部复制），按相同顺序看到相同的小批量，并逐步同步训练。",
    ),
    "err.lab.side_small": (
        "{name} needs inputs of at least {need}×{need}; got {side}",
        "{name} 的输入至少需要 {need}×{need}，收到的是 {side}",
    ),
    # --- gradient flow
    "lab.grad.title": ("Gradient flow: why residual connections train deep nets", "梯度流：为什么残差连接能训练很深的网络"),
    "lab.grad.intro": (
        "A stack of 3×3 convolutions at constant width, trained twice: once as a plain net and once with a "
        "skip around every pair of convolutions (a residual block). The charts show the L2 norm of each "
        "layer's weight gradient: in the plain net it shrinks layer after layer on its way back to the input.",
        "一叠宽度不变的 3×3 卷积层，训练两次：一次是普通网络，一次在每两层卷积外加一条跳连（残差块）。"
        "图中是每层权重梯度的 L2 范数：在普通网络里，它在反向传回输入的途中一层层缩小。",
    ),
    "lab.grad.depth": ("Depth (conv layers)", "深度（卷积层数）"),
    "lab.grad.depth_help": (
        "Convolutions on the main path: a stem conv plus two per residual block (so always odd).",
        "主路径上的卷积层数：一个起始卷积，加上每个残差块两个（所以总是奇数）。",
    ),
    "lab.grad.depth_resnet18": (
        "Depth: the book's ResNet-18, 17 convolutions on the main path (plus three 1×1 shortcuts in the residual variant).",
        "深度：书中的 ResNet-18，主路径上 17 个卷积层（残差版本另有三个 1×1 捷径卷积）。",
    ),
    "lab.grad.resnet18": ("Use the book's ResNet-18 stages", "改用笔记中的 ResNet-18 各阶段"),
    "lab.grad.resnet18_help": (
        "Four stages of two blocks, widths ×1, ×2, ×4, ×8, each later stage halving the map (17 convs).",
        "四个阶段，每阶段两个残差块，宽度 ×1、×2、×4、×8，后三个阶段各把特征图减半（共 17 个卷积层）。",
    ),
    "lab.grad.show": ("Show", "显示"),
    "lab.grad.batch_norm": ("BatchNorm after every conv", "每个卷积后加批量规范化"),
    "lab.grad.width": ("Channels", "通道数"),
    "lab.grad.side": ("Input side", "输入边长"),
    "lab.grad.init": ("Initialisation", "初始化"),
    "lab.grad.init.pytorch": ("PyTorch default, U(±1/√fan_in)", "PyTorch 默认，U(±1/√fan_in)"),
    "lab.grad.init.xavier": ("Xavier (the book's)", "Xavier（书中做法）"),
    "lab.grad.depth_title": ("Gradient norm of every layer at step {step}", "第 {step} 步各层的梯度范数"),
    "lab.grad.depth_axis": ("layer (1 = next to the input)", "层（1 = 紧挨输入）"),
    "lab.grad.norm_axis": ("‖∂loss/∂W‖ (log scale)", "‖∂损失/∂W‖（对数坐标）"),
    "lab.grad.hover": ("layer %{x}: %{customdata}<br>‖∇W‖ = %{y:.3e}", "第 %{x} 层：%{customdata}<br>‖∇W‖ = %{y:.3e}"),
    "lab.grad.heat_hover": (
        "step %{y}, layer %{x}: %{customdata}<br>log₁₀‖∇W‖ = %{z:.2f}",
        "第 %{y} 步，第 %{x} 层：%{customdata}<br>log₁₀‖∇W‖ = %{z:.2f}",
    ),
    "lab.grad.heat_title": ("{variant}: gradient norms, steps × layers", "{variant}：梯度范数，步数 × 层"),
    "lab.grad.zero_note": (
        "gaps: gradients that underflowed to exactly 0 in float32",
        "空缺处：梯度在 float32 中下溢为 0",
    ),
    "lab.grad.step_pick": ("Step shown in the depth chart", "深度图显示的步数"),
    "lab.grad.table.variant": ("variant", "变体"),
    "lab.grad.table.first": ("first conv ‖∇W‖", "第一个卷积 ‖∇W‖"),
    "lab.grad.table.last": ("last conv ‖∇W‖", "最后一个卷积 ‖∇W‖"),
    "lab.grad.table.ratio": ("last ÷ first", "最后 ÷ 第一"),
    "lab.grad.table.loss": ("loss", "损失"),
    "lab.grad.verdict": (
        "At step {step} the plain net's first conv gets a gradient {plain:.1e}× smaller than its last; "
        "with residual connections the factor is {res:.1f}.",
        "第 {step} 步时，普通网络第一个卷积层的梯度比最后一层小 {plain:.1e} 倍；加上残差连接后，这个倍数是 {res:.1f}。",
    ),
    "lab.grad.verdict_zero": (
        "At step {step} the plain net's first conv gets no gradient at all (it underflowed to 0); "
        "with residual connections the last ÷ first factor is {res:.1f}.",
        "第 {step} 步时，普通网络第一个卷积层的梯度完全消失（下溢为 0）；加上残差连接后，最后 ÷ 第一的倍数是 {res:.1f}。",
    ),
    "lab.grad.why": ("Why: the derivation in the notes (§6.4)", "原因：笔记中的推导（§6.4）"),
    "lab.grad.why1": (
        "Let y = f(x) be the output of the lower layers, whose weights w we update with w ← w − η ∂loss/∂w. "
        "Stack one more block g on top, without a skip:",
        "设 y = f(x) 是底层的输出，底层权重 w 按 w ← w − η ∂损失/∂w 更新。在上面再叠一个块 g，不加跳连：",
    ),
    "lab.grad.why2": (
        "If ∂g(y)/∂y is small, the whole product is small, and each further block multiplies in one more "
        "such factor: that is the plain chart's slope. With a skip the block outputs y + g(y):",
        "如果 ∂g(y)/∂y 很小，整个乘积就很小；每多一个块，就再乘上一个这样的因子，这就是普通网络曲线的坡度。加上跳连后，块的输出是 y + g(y)：",
    ),
    "lab.grad.why3": (
        "Even when the second term is small, the first one, ∂y/∂w, reaches the lower layers unchanged: "
        "the sum pulls the gradient back up. (Here y, y′ and y″ are the outputs of successive blocks, not "
        "derivatives of one another.)",
        "即使第二项很小，第一项 ∂y/∂w 也原封不动地传到底层：加法把梯度“拉了回来”。（这里 y、y′、y″ 是自下而上各块的输出，彼此之间不是求导关系。）",
    ),
    "lab.grad.bn_note": (
        "BatchNorm also rescues the plain net's gradients at this depth (try it): each layer's output is "
        "rescaled to unit variance, so the product of factors no longer shrinks; the residual net still "
        "trains faster.",
        "在这个深度下，批量规范化同样能挽救普通网络的梯度（试试看）：每层输出被重新缩放到单位方差，因子的乘积不再缩小；但残差网络仍然训练得更快。",
    ),
    # --- BatchNorm lab
    "lab.bn.title": ("BatchNorm lab", "批量规范化实验"),
    "lab.bn.intro": (
        "Batch normalisation standardises every channel with the mean and variance of the current "
        "minibatch, then rescales it with the learned γ and β (notes §5).",
        "批量规范化用当前小批量的均值和方差标准化每个通道，再用学习到的 γ 和 β 缩放和平移（笔记 §5）。",
    ),
    "lab.bn.tab.scratch": ("From scratch vs nn.BatchNorm2d", "从零实现 vs nn.BatchNorm2d"),
    "lab.bn.tab.train": ("Training with and without BN", "有无 BN 的训练"),
    "lab.bn.tab.modes": ("Batch vs running statistics", "批量统计量 vs 滑动统计量"),
    "lab.bn.tab.batch": ("Batch size and noise", "批量大小与噪声"),
    "lab.bn.scratch_intro": (
        "The from-scratch BatchNorm of the notes and PyTorch's, fed the same batches (values drawn from N(3, 2²)), "
        "with the same γ and β and the same upstream gradient. Forward outputs, input gradients, γ/β "
        "gradients, running statistics and evaluation-mode outputs are compared.",
        "笔记中的 BatchNorm 层与 PyTorch 的层，输入相同的小批量（取自 N(3, 2²)），γ、β 相同，上游梯度也相同。"
        "比较前向输出、输入梯度、γ/β 梯度、滑动统计量以及评估模式下的输出。",
    ),
    "lab.bn.shape": ("Batch N × channels C × H × W", "批量 N × 通道 C × 高 H × 宽 W"),
    "lab.bn.max_diff": ("largest absolute difference", "最大绝对差"),
    "lab.bn.equal": ("Equal to float32 rounding (differences below 1e-4).", "在 float32 舍入误差内相等（差异小于 1e-4）。"),
    "lab.bn.not_equal": ("The layers differ by {diff:.2e}.", "两层相差 {diff:.2e}。"),
    "lab.bn.cmp.what": ("quantity", "量"),
    "lab.bn.cmp.diff": ("max |scratch − PyTorch|", "max |从零实现 − PyTorch|"),
    "lab.bn.cmp.train_out": ("training output, step {i}", "训练输出，第 {i} 步"),
    "lab.bn.cmp.grad_in": ("∂loss/∂x, step {i}", "∂损失/∂x，第 {i} 步"),
    "lab.bn.cmp.grad_gamma": ("∂loss/∂γ", "∂损失/∂γ"),
    "lab.bn.cmp.grad_beta": ("∂loss/∂β", "∂损失/∂β"),
    "lab.bn.cmp.running_mean": ("running mean", "滑动均值"),
    "lab.bn.cmp.running_var": ("running variance", "滑动方差"),
    "lab.bn.cmp.eval_out": ("evaluation-mode output", "评估模式输出"),
    "lab.bn.out_moments": (
        "After normalisation (before γ, β) the channels have mean {mean:.1e} and standard deviation {std:.4f}.",
        "规范化之后（γ、β 之前），各通道的均值为 {mean:.1e}，标准差为 {std:.4f}。",
    ),
    "lab.bn.train_intro": (
        "The notes' experiment (§5.2): LeNet (sigmoid) with and without BatchNorm, the same learning rate, "
        "the same initial weights and the same batches. Forward hooks record what enters every sigmoid.",
        "笔记中的实验：带与不带批量规范化的 LeNet（sigmoid），相同的学习率、相同的初始权重、相同的小批量。前向钩子记录进入每个 sigmoid 的值。",
    ),
    "lab.bn.impl": ("BatchNorm implementation", "批量规范化实现"),
    "lab.bn.impl.torch": ("PyTorch's nn.BatchNorm2d / 1d", "PyTorch 的 nn.BatchNorm2d / 1d"),
    "lab.bn.impl.scratch": ("from scratch (the notes)", "笔记中从零实现的层"),
    "lab.bn.mean": ("mean", "均值"),
    "lab.bn.std": ("standard deviation", "标准差"),
    "lab.bn.stats_title": (
        "Pre-activations (inputs of each sigmoid) during training",
        "训练过程中的预激活值（每个 sigmoid 的输入）",
    ),
    "lab.bn.hist_layer": ("Layer", "层"),
    "lab.bn.hist_step": ("Histogram at step", "直方图所在步数"),
    "lab.bn.hist_title": ("Distribution of {layer}'s pre-activations", "{layer} 预激活值的分布"),
    "lab.bn.preact_axis": ("value entering the sigmoid (clamped to the range)", "进入 sigmoid 的值（截断在范围内）"),
    "lab.bn.fraction_axis": ("fraction of values", "所占比例"),
    "lab.bn.result": (
        "{variant}: loss {loss:.3f}, training accuracy {acc:.1%}, test accuracy {test}",
        "{variant}：损失 {loss:.3f}，训练准确率 {acc:.1%}，测试准确率 {test}",
    ),
    "lab.bn.modes_intro": (
        "A BatchNorm layer after LeNet's first convolution, fed batches of dataset images. In training mode "
        "it normalises with the batch's statistics and updates its running statistics "
        "(new = (1 − momentum)·old + momentum·batch); in evaluation mode it uses the running ones.",
        "LeNet 第一个卷积层之后的 BatchNorm 层，输入数据集图片组成的小批量。训练模式下它用小批量的统计量做规范化，并更新滑动统计量"
        "（新 = (1 − momentum)·旧 + momentum·批量）；评估模式下使用滑动统计量。",
    ),
    "lab.bn.momentum": ("Momentum (PyTorch's convention)", "动量（PyTorch 的约定）"),
    "lab.bn.running_title": ("Channel 0: batch mean and running mean", "通道 0：批量均值与滑动均值"),
    "lab.bn.batch_mean": ("batch mean", "批量均值"),
    "lab.bn.running_mean": ("running mean", "滑动均值"),
    "lab.bn.table.channel": ("channel", "通道"),
    "lab.bn.table.batch_mean": ("batch mean", "批量均值"),
    "lab.bn.table.running_mean": ("running mean", "滑动均值"),
    "lab.bn.table.batch_var": ("batch variance", "批量方差"),
    "lab.bn.table.running_var": ("running variance", "滑动方差"),
    "lab.bn.train_vs_eval": ("same batch, training vs evaluation mode", "同一小批量，训练模式 vs 评估模式"),
    "lab.bn.companions_train": ("one image, two batches, training mode", "同一张图片、两个小批量，训练模式"),
    "lab.bn.companions_eval": ("one image, two batches, evaluation mode", "同一张图片、两个小批量，评估模式"),
    "lab.bn.modes_note": (
        "In training mode an image's output depends on the other images of its batch (the batch "
        "statistics are noise); in evaluation mode it does not, which is why a model must be switched "
        "with model.eval() before predicting.",
        "训练模式下，一张图片的输出取决于同一小批量中的其他图片（批量统计量就是噪声）；评估模式下则不会。这就是预测前必须用 model.eval() 切换模式的原因。",
    ),
    "lab.bn.batch_intro": (
        "The batch mean and standard deviation are estimates from B images. Drawing many random batches "
        "of each size shows how much they vary: the noise BatchNorm injects, which shrinks as 1/√B.",
        "批量均值和标准差是由 B 张图片得到的估计。对每种批量大小随机抽取许多批，就能看到它们的波动：这就是 BatchNorm 注入的噪声，按 1/√B 缩小。",
    ),
    "lab.bn.trials": ("Random batches per size", "每种大小抽取的批数"),
    "lab.bn.noise_title": ("Noise of batch statistics against batch size", "批量统计量的噪声与批量大小"),
    "lab.bn.noise.mean_noise": ("spread of the batch mean", "批量均值的波动"),
    "lab.bn.noise.std_noise": ("spread of the batch std", "批量标准差的波动"),
    "lab.bn.noise.theory": ("σ_image / √B", "σ_图片 / √B"),
    "lab.bn.batch_axis": ("batch size B (log scale)", "批量大小 B（对数坐标）"),
    "lab.bn.noise_axis": ("spread ÷ the channel's σ (log scale)", "波动 ÷ 通道的 σ（对数坐标）"),
    # --- cost lab
    "lab.cost.title": ("What 1×1 convolutions save: Inception and NiN", "1×1 卷积省下了什么：Inception 与 NiN"),
    "lab.cost.intro": (
        "A k×k convolution from c_in to c_out channels on an H×W output map has k²·c_in·c_out weights and "
        "does one multiply-accumulate (MAC) per weight per output pixel:",
        "一个 k×k 卷积把 c_in 个通道变成 c_out 个，输出特征图为 H×W，它有 k²·c_in·c_out 个权重，每个权重在每个输出像素上做一次乘加（MAC）：",
    ),
    "lab.cost.inception": ("Inception block", "Inception 块"),
    "lab.cost.cin": ("Input channels", "输入通道数"),
    "lab.cost.side": ("Map side (H = W)", "特征图边长（H = W）"),
    "lab.cost.c1": ("Path 1: 1×1 conv", "路径 1：1×1 卷积"),
    "lab.cost.c2r": ("Path 2: 1×1 reduce", "路径 2：1×1 降维"),
    "lab.cost.c2": ("Path 2: 3×3 conv", "路径 2：3×3 卷积"),
    "lab.cost.c3r": ("Path 3: 1×1 reduce", "路径 3：1×1 降维"),
    "lab.cost.c3": ("Path 3: 5×5 conv", "路径 3：5×5 卷积"),
    "lab.cost.c4": ("Path 4: pool → 1×1 conv", "路径 4：池化 → 1×1 卷积"),
    "lab.cost.book": ("The book's first Inception block: 192 → 64, (96, 128), (16, 32), 32 at 28×28.",
                      "笔记中的第一个 Inception 块：192 → 64，(96, 128)，(16, 32)，32，特征图 28×28。"),
    "lab.cost.row.inception": ("Inception block", "Inception 块"),
    "lab.cost.row.p1": ("path 1 (1×1)", "路径 1（1×1）"),
    "lab.cost.row.p2": ("path 2 (1×1 → 3×3)", "路径 2（1×1 → 3×3）"),
    "lab.cost.row.p3": ("path 3 (1×1 → 5×5)", "路径 3（1×1 → 5×5）"),
    "lab.cost.row.p4": ("path 4 (pool → 1×1)", "路径 4（池化 → 1×1）"),
    "lab.cost.row.no_bottleneck": ("same paths, no 1×1 reductions", "相同路径，去掉 1×1 降维"),
    "lab.cost.row.conv3": ("one 3×3 conv, same outputs", "单个 3×3 卷积，输出相同"),
    "lab.cost.row.conv5": ("one 5×5 conv, same outputs", "单个 5×5 卷积，输出相同"),
    "lab.cost.col.what": ("layer(s)", "层"),
    "lab.cost.col.weights": ("weights", "权重"),
    "lab.cost.col.params": ("parameters (with biases)", "参数（含偏置）"),
    "lab.cost.col.macs": ("MACs", "乘加次数"),
    "lab.cost.col.macs_ti": ("MACs (torchinfo, biases counted)", "乘加次数（torchinfo，含偏置）"),
    "lab.cost.params": ("parameters", "参数"),
    "lab.cost.macs": ("multiply-accumulates per image", "每张图片的乘加次数"),
    "lab.cost.bars_title": ("Inception block against the alternatives", "Inception 块与其他方案对比"),
    "lab.cost.out_channels": ("Output channels: {n} (c1 + c2 + c3 + c4)", "输出通道数：{n}（c1 + c2 + c3 + c4）"),
    "lab.cost.saving": (
        "The 1×1 reductions save {params} parameters ({pct:.0%}) and {macs} MACs per image against the same "
        "paths without them; one 3×3 conv with the same outputs costs {r3:.1f}× the block's MACs, one 5×5 conv {r5:.1f}×.",
        "与去掉 1×1 降维的相同路径相比，1×1 降维省下 {params} 个参数（{pct:.0%}）和每张图片 {macs} 次乘加；输出相同的单个 3×3 卷积的乘加次数是该块的 {r3:.1f} 倍，5×5 卷积是 {r5:.1f} 倍。",
    ),
    "lab.cost.saving_none": (
        "With these channels the 1×1 reductions save nothing: a reduction wider than the input costs more than it saves.",
        "在这组通道数下，1×1 降维没有节省：降维后的通道比输入还多时，代价反而更大。",
    ),
    "lab.cost.check_ok": (
        "Cross-check: torchinfo, counting the real Inception module on the meta device, gives the same "
        "parameters and MACs for every path.",
        "交叉验证：torchinfo 在 meta 设备上统计真实的 Inception 模块，每条路径的参数和乘加次数都与公式一致。",
    ),
    "lab.cost.check_bad": ("Cross-check failed: torchinfo counts {ti}, the formula {cf}.", "交叉验证失败：torchinfo 统计为 {ti}，公式为 {cf}。"),
    "lab.cost.nin": ("NiN's 1×1 convs and global average pooling against AlexNet's dense head",
                     "NiN 的 1×1 卷积与全局平均池化 vs AlexNet 的全连接头"),
    "lab.cost.nin_intro": (
        "AlexNet flattens its last feature maps into a {flat}-wide vector and runs two 4096-wide dense "
        "layers; NiN ends with a convolution to one map per class and averages each map into a score.",
        "AlexNet 把最后的特征图展平成长度为 {flat} 的向量，再接两个宽 4096 的全连接层；NiN 最后用卷积得到每个类别一张特征图，再把每张图平均成一个分数。",
    ),
    "lab.cost.classes": ("Classes", "类别数"),
    "lab.cost.net_side": ("Input side", "输入边长"),
    "lab.cost.features": ("feature extractor", "特征提取部分"),
    "lab.cost.head": ("head (classifier)", "输出头（分类器）"),
    "lab.cost.head_title": ("Where the parameters are", "参数都在哪里"),
    "lab.cost.head_summary": (
        "AlexNet's dense head holds {a_head} parameters ({a_pct:.0%} of the net); NiN's head (last block + "
        "global average pooling) holds {n_head}, {ratio:,.0f}× fewer. All of NiN's 1×1 convs together hold {ones}.",
        "AlexNet 的全连接头有 {a_head} 个参数（占全网 {a_pct:.0%}）；NiN 的输出头（最后一个块 + 全局平均池化）只有 {n_head} 个，少 {ratio:,.0f} 倍。NiN 所有 1×1 卷积加起来有 {ones} 个参数。",
    ),
    "lab.cost.trace_ok": ("Cross-check: the traced networks (torchinfo) have exactly these totals.",
                          "交叉验证：追踪得到的网络（torchinfo）总数与此完全一致。"),
    "lab.cost.trace_bad": ("Cross-check failed for {name}: trace {ti}, formula {cf}.", "{name} 的交叉验证失败：追踪为 {ti}，公式为 {cf}。"),
    "lab.cost.col.net": ("network", "网络"),
    "lab.cost.col.part": ("part", "部分"),
    # --- feature maps
    "lab.fm.title": ("Feature maps: what each convolution sees", "特征图：每个卷积层看到了什么"),
    "lab.fm.intro": (
        "One image through a network; every conv layer's output channels drawn as small images "
        "(each stretched to its own range, so weak channels stay visible).",
        "把一张图片送进网络，把每个卷积层的输出通道画成小图（每张按自身范围拉伸，弱通道也看得见）。",
    ),
    "lab.fm.model": ("Network", "网络"),
    "lab.fm.source": ("Image", "图片"),
    "lab.fm.source.dataset": ("from the dataset", "来自数据集"),
    "lab.fm.source.upload": ("upload a PNG or JPEG", "上传 PNG 或 JPEG"),
    "lab.fm.index": ("Image number", "图片编号"),
    "lab.fm.upload": ("PNG or JPEG, at most 5 MB", "PNG 或 JPEG，最大 5 MB"),
    "lab.fm.upload_first": ("Upload an image to see its feature maps.", "上传一张图片即可查看特征图。"),
    "lab.fm.label": ("label: {label}", "标签：{label}"),
    "lab.fm.input": ("Input ({h}×{w}, {c} channel(s))", "输入（{h}×{w}，{c} 个通道）"),
    "lab.fm.channels": ("Channels shown per layer", "每层显示的通道数"),
    "lab.fm.layers": ("Conv layers", "卷积层"),
    "lab.fm.weights": ("Weights", "权重"),
    "lab.fm.weights.untrained": ("untrained (the book's Xavier init, seed 0)", "未训练（书中的 Xavier 初始化，种子 0）"),
    "lab.fm.weights.trained": ("trained here, briefly", "在此处简短训练"),
    "lab.fm.no_stored_weights": (
        "A trained network comes from a short run of the chosen network's classroom recipe: {steps} steps on the "
        "chosen dataset, on the server's shared workers (computed once for everyone who asks for the same one).",
        "训练过的网络来自所选网络课堂配置的一次短训练：在所选数据集上训练 {steps} 步，由服务器共享的工作进程完成（相同的请求只计算一次，所有人共享）。",
    ),
    "lab.fm.train": ("Train {steps} steps (about {seconds} s)", "训练 {steps} 步（约 {seconds} 秒）"),
    "lab.fm.trained": ("Trained {steps} steps; test accuracy {acc}.", "已训练 {steps} 步；测试准确率 {acc}。"),
    "lab.fm.weights_gone": (
        "The weights of this trained network are no longer kept on the server (it keeps the most recent ones); "
        "use the untrained weights for now",
        "服务器上已不再保留这个训练过的网络的权重（只保留最近的）；请暂时使用未训练的权重",
    ),
    "lab.fm.train_first": ("Train the network first (button above), or use the untrained weights.",
                           "请先训练网络（上方按钮），或使用未训练的权重。"),
    "lab.fm.layer_title": ("{name}: {shown} of {channels} channels, {h}×{w}", "{name}：{channels} 个通道中的 {shown} 个，{h}×{w}"),
    "lab.fm.speed_note": (
        "Input {side}×{side}: the network's classroom configuration (smaller input and width), the one the quick training uses.",
        "输入 {side}×{side}：该网络的课堂配置（更小的输入和宽度），也是快速训练所用的配置。",
    ),
    # --- uploads (cnnviz.labs.featuremaps.decode_upload)
    "err.upload.empty": ("the uploaded file is empty", "上传的文件是空的"),
    "err.upload.too_large": (
        "the file is {mb} MB; uploads are capped at {cap} MB",
        "文件大小为 {mb} MB，上传上限为 {cap} MB",
    ),
    "err.upload.type": (
        "this is not an image this lab can read: upload a {formats} file",
        "无法识别该文件：请上传 {formats} 格式的图片",
    ),
    "err.upload.too_many_pixels": (
        "the image is {w}×{h} pixels; the cap is {cap:,} pixels in all",
        "图片为 {w}×{h} 像素，像素总数上限为 {cap:,}",
    ),
    "err.upload.bomb": (
        "the image header claims far more pixels than the cap of {cap:,}; the file was not decoded",
        "图片头声明的像素数远超上限 {cap:,}，文件未被解码",
    ),
    "err.upload.broken": (
        "the image is damaged or truncated and cannot be decoded",
        "图片已损坏或不完整，无法解码",
    ),
}
