"""Strings of the exploring pages (home, explorer, VGG designer, compare), their charts and
diagram, and the messages about links (``cnnviz.urlstate``)."""

STRINGS = {
    # --- links (cnnviz.urlstate) -----------------------------------------------------------
    "url.problems": (
        "This link had values that cannot be used; the page shows the nearest valid view instead:",
        "此链接中有无法使用的值，页面改为显示最接近的有效视图：",
    ),
    "url.not_int": ("{name}={raw!r} is not a whole number; using {value}", "{name}={raw!r} 不是整数；改用 {value}"),
    "url.not_number": ("{name}={raw!r} is not a number; using {value}", "{name}={raw!r} 不是数字；改用 {value}"),
    "url.not_bool": ("{name}={raw!r} is not on/off (1 or 0); using {value}", "{name}={raw!r} 不是开/关（1 或 0）；改用 {value}"),
    "url.clamped": (
        "{name}={raw} is outside {lo}–{hi}; using {value}",
        "{name}={raw} 超出了 {lo}–{hi} 的范围；改用 {value}",
    ),
    "url.bad_choice": (
        "{name}={raw!r} is not one of {choices}; using {value}",
        "{name}={raw!r} 不是 {choices} 之一；改用 {value}",
    ),
    "url.nearest": (
        "{name}={raw} is not one of {choices}; using the nearest, {value}",
        "{name}={raw} 不是 {choices} 之一；改用最接近的 {value}",
    ),
    "url.bad_list": (
        "{name}={raw!r} is not a comma-separated list of whole numbers; using {value}",
        "{name}={raw!r} 不是用逗号分隔的整数列表；改用 {value}",
    ),
    "url.list_long": ("{name} lists more than {cap} values; the extra ones are ignored", "{name} 超过 {cap} 个值；多余的被忽略"),
    "url.bad_text": ("{name}={raw!r} is not a block name; using {value}", "{name}={raw!r} 不是块的名称；改用 {value}"),
    "url.unknown_block": (
        "expand={raw!r} is not a block of this network; using the automatic view",
        "expand={raw!r} 不是该网络中的块；改用自动视图",
    ),
    # --- families and the chapter's story ---------------------------------------------------
    "family.alexnet": ("AlexNet", "AlexNet"),
    "family.vgg": ("VGG", "VGG"),
    "family.nin": ("NiN", "NiN"),
    "family.googlenet": ("GoogLeNet", "GoogLeNet"),
    "family.batchnorm": ("BatchNorm", "批量规范化"),
    "family.resnet": ("ResNet", "ResNet"),
    "home.idea.short.alexnet": ("deeper, wider LeNet:<br>ReLU, dropout, max pool", "更深更宽的 LeNet：<br>ReLU、丢弃法、最大汇聚"),
    "home.idea.short.vgg": ("repeat one block:<br>3×3 convs + 2×2 pool", "重复同一种块：<br>3×3 卷积 + 2×2 汇聚"),
    "home.idea.short.nin": ("1×1 convs, global average<br>pooling, no dense head", "1×1 卷积、全局平均汇聚，<br>没有全连接层"),
    "home.idea.short.googlenet": ("Inception: four parallel<br>paths, concatenated", "Inception：四条并行<br>路径，通道拼接"),
    "home.idea.short.batchnorm": ("normalise each mini-batch:<br>faster convergence", "规范化每个小批量：<br>收敛更快"),
    "home.idea.short.resnet": ("residual blocks f(x) + x:<br>very deep nets train", "残差块 f(x) + x：<br>很深的网络也能训练"),
    "home.idea.alexnet": (
        "A deeper, wider LeNet that won ImageNet 2012: ReLU instead of sigmoid, dropout in the dense head, max "
        "pooling, data augmentation. Its 11×11 stride-4 first conv shrinks 224 pixels to 54 at once; its dense "
        "layers hold over 90% of the parameters.",
        "一个更深更宽的 LeNet，赢得了 2012 年的 ImageNet 竞赛：用 ReLU 取代 sigmoid，全连接层后加入丢弃法，"
        "使用最大汇聚和数据增强。第一层 11×11、步幅 4 的卷积一下子把 224 像素缩小到 54；全连接层占全部参数的 90% 以上。",
    ),
    "home.idea.vgg": (
        "Networks built from one repeated block: a few 3×3 convolutions (padding 1 keeps the size) and a 2×2 max "
        "pool that halves it. Deep and narrow works better than shallow and wide; VGG-11/13/16/19 differ only in "
        "how many convs each block has.",
        "用一种重复的块搭建网络：若干个 3×3 卷积（填充 1 保持尺寸）加一个把尺寸减半的 2×2 最大汇聚层。"
        "深而窄比浅而宽效果更好；VGG-11/13/16/19 的区别只在于每个块中卷积层的个数。",
    ),
    "home.idea.nin": (
        "Network in Network: each block is a conv followed by two 1×1 convs, a small dense layer applied at "
        "every pixel. Global average pooling replaces the dense head, removing most of the parameters and much "
        "of the overfitting.",
        "网络中的网络：每个块是一个卷积层后接两个 1×1 卷积层，相当于在每个像素上做全连接。"
        "用全局平均汇聚取代全连接层，去掉了大部分参数，也减轻了过拟合。",
    ),
    "home.idea.googlenet": (
        "Inception blocks run four paths side by side (1×1, 3×3, 5×5 convs and a pool, with 1×1 convs to cut "
        "channels first) and concatenate their outputs along channels: the network need not choose one kernel "
        "size.",
        "Inception 块让四条路径并行（1×1、3×3、5×5 卷积和汇聚，先用 1×1 卷积减少通道数），"
        "再在通道维上拼接输出：网络不必只选一种卷积核大小。",
    ),
    "home.idea.batchnorm": (
        "Batch normalisation standardises each layer's inputs over the mini-batch, then scales and shifts them "
        "with learned γ and β. Training converges much faster; the batch's noise also regularises a little.",
        "批量规范化在小批量上对每层的输入做标准化，再用可学习的 γ 和 β 缩放和偏移。"
        "训练收敛快得多；小批量带来的噪声也起到一点正则化作用。",
    ),
    "home.idea.resnet": (
        "Residual blocks compute f(x) + x: each block can fall back to the identity, so a deeper network "
        "contains the shallower one (nested function classes) and gradients reach the lowest layers. A 1×1 "
        "conv on the skip matches shapes when a block halves the map.",
        "残差块计算 f(x) + x：每个块都可以退化为恒等映射，所以更深的网络包含更浅的网络（嵌套函数类），"
        "梯度也能传到最底层。当块把特征图减半时，跳跃连接上的 1×1 卷积负责对齐形状。",
    ),
    "home.timeline.title": ("The chapter's story", "本章的脉络"),
    # --- structure diagram (cnnviz.viz.diagram) -------------------------------------------------
    "dg.input": ("input", "输入"),
    "dg.conv": ("{k}×{k} conv, {c}", "{k}×{k} 卷积, {c}"),
    "dg.maxpool": ("{k}×{k} max pool", "{k}×{k} 最大汇聚"),
    "dg.avgpool": ("{k}×{k} avg pool", "{k}×{k} 平均汇聚"),
    "dg.linear": ("dense, {n}", "全连接, {n}"),
    "dg.gap": ("global avg pool", "全局平均汇聚"),
    "dg.flatten": ("flatten", "展平"),
    "dg.concat": ("concat", "通道拼接"),
    "dg.dropout": ("dropout {p}", "丢弃 {p}"),
    "dg.inception": ("Inception: {parts} → {out} ch", "Inception：{parts} → {out} 通道"),
    "dg.residual": ("Residual: {n}× 3×3 conv, {c}", "残差块：{n}× 3×3 卷积, {c}"),
    "dg.unit.inception": ("Inception {name}", "Inception {name}"),
    "dg.unit.residual": ("Residual {name}", "残差块 {name}"),
    "dg.unit.block": ("block {name}", "块 {name}"),
    "dg.skip.identity": ("identity", "恒等映射"),
    "dg.skip.conv1x1": ("1×1 conv", "1×1 卷积"),
    "dg.hover.window": ("kernel {k}, stride {s}, padding {p}", "卷积核 {k}，步幅 {s}，填充 {p}"),
    "dg.hover.cost": ("parameters {params} · MACs {macs}", "参数 {params} · 乘加 {macs}"),
    "dg.hover.rf": ("receptive field {rf}×{rf} px", "感受野 {rf}×{rf} 像素"),
    "dg.hover.unit": ("{params} parameters in {n} layers", "{n} 层共 {params} 个参数"),
    "dg.hover.input": ("input {shape} (channels×height×width)", "输入 {shape}（通道×高×宽）"),
    # --- charts (cnnviz.viz.explore) ---------------------------------------------------------------
    "chart.flow.title": ("Shape flow: channels grow while the map shrinks", "形状变化：通道数增加，特征图缩小"),
    "chart.channels": ("channels (features)", "通道数（特征数）"),
    "chart.side": ("spatial side", "空间边长"),
    "chart.side_px": ("spatial side (px)", "空间边长（像素）"),
    "chart.memory": ("activation memory (batch {n})", "激活内存（批量 {n}）"),
    "chart.memory_mib": ("activations (MiB)", "激活（MiB）"),
    "chart.hover.memory": ("output memory {mem} for a batch of {n}", "批量 {n} 的输出内存 {mem}"),
    "chart.hover.input": ("<b>input</b> {shape}<br>{mem} for a batch of {n}", "<b>输入</b> {shape}<br>批量 {n} 占 {mem}"),
    "chart.layer_index": ("layer along the depth (0 = input; parallel lanes are not drawn, their concat is)",
                          "沿深度排列的层（0 为输入；并行路径不画出，只画拼接）"),
    "chart.layer_index_rf": ("conv, pool and join layers along the depth", "沿深度排列的卷积、汇聚和合并层"),
    "chart.rf": ("receptive field", "感受野"),
    "chart.rf.title": ("Receptive field: how much of the input one unit sees", "感受野：一个输出单元能看到多少输入"),
    "chart.rf.axis": ("receptive field side (input pixels)", "感受野边长（输入像素）"),
    "chart.rf.hover": ("receptive field {rf}×{rf} px; neighbours {jump} px apart",
                       "感受野 {rf}×{rf} 像素；相邻单元相隔 {jump} 像素"),
    "chart.rf.input": ("input side: {side} px", "输入边长：{side} 像素"),
    "chart.rf.covers": ("{name} sees the whole input", "{name} 能看到整个输入"),
    "chart.split.title": ("Where the parameters are: convolutions vs dense head", "参数在哪里：卷积部分与全连接部分"),
    "chart.split.conv": ("convolutional part", "卷积部分"),
    "chart.split.dense": ("dense head", "全连接部分"),
    "chart.split.share": ("{pct}% dense", "全连接 {pct}%"),
    "chart.split.axis": ("parameters (millions)", "参数（百万）"),
    "cmp.title": ("Every architecture at the same input", "同一输入下的所有架构"),
    "cmp.scatter.title": ("Parameters against compute", "参数量与计算量"),
    "cmp.params": ("parameters", "参数"),
    "cmp.macs": ("multiply-accumulates", "乘加运算"),
    "cmp.memory": ("activation memory", "激活内存"),
    "cmp.depth": ("depth (layers with weights)", "深度（有权重的层）"),
    "cmp.log": ("log scale", "对数刻度"),
    "cmp.linear": ("linear scale", "线性刻度"),
}
STRINGS.update({
    # --- computed observations (cnnviz.viz.explore.key_facts) -------------------------------------
    "fact.no_dense": (
        "No dense head at all: global average pooling turns each class's map into its score.",
        "完全没有全连接层：全局平均汇聚把每个类别的特征图直接变成该类别的分数。",
    ),
    "fact.dense_heavy": (
        "{pct}% of the parameters ({dense} of {total}) sit in the dense head.",
        "{pct}% 的参数（{total} 中的 {dense}）在全连接层里。",
    ),
    "fact.dense_light": ("Only {pct}% of the parameters are in dense layers.", "只有 {pct}% 的参数在全连接层里。"),
    "fact.first_shrink": (
        "The first layer ({name}) already shrinks the side from {a} to {b} pixels.",
        "第一层（{name}）就把边长从 {a} 像素缩小到 {b} 像素。",
    ),
    "fact.most_macs": ("Most compute: {name} ({type}), {pct}% of all multiply-accumulates.",
                       "计算量最大的是 {name}（{type}），占全部乘加运算的 {pct}%。"),
    "fact.biggest_act": ("Largest output: {name}, {shape} = {mem} per example.",
                         "最大的输出：{name}，{shape}，每个样本 {mem}。"),
    "fact.rf_covers": (
        "The last conv/pool ({name}) sees {rf}×{rf} pixels: more than the {side}-pixel input.",
        "最后一个卷积/汇聚层（{name}）的感受野为 {rf}×{rf} 像素，超过了 {side} 像素的输入。",
    ),
    "fact.rf_partial": (
        "The last conv/pool ({name}) sees {rf}×{rf} of the {side}×{side} input; global pooling or the dense "
        "head combines the rest.",
        "最后一个卷积/汇聚层（{name}）只能看到 {side}×{side} 输入中的 {rf}×{rf}；其余部分由全局汇聚或全连接层整合。",
    ),
})
STRINGS.update({
    # --- explorer page ------------------------------------------------------------------------
    "ex.title": ("Architecture explorer", "架构浏览器"),
    "ex.intro": (
        "Pick a network of the chapter and an input size: every layer's output shape, parameters and cost, "
        "traced without allocating a single weight. The URL keeps your settings: share it and students see "
        "the same view.",
        "选择本章的一个网络和输入尺寸：每一层的输出形状、参数量和计算量，在不分配任何权重的情况下推算得出。"
        "网址会记录你的设置：把它分享出去，学生看到的就是同一个视图。",
    ),
    "ex.arch": ("Architecture", "架构"),
    "ex.side": ("Input side (pixels)", "输入边长（像素）"),
    "ex.side.help": (
        "Height and width of the square input image. Too small, and some layer's output has no pixels left.",
        "正方形输入图像的高和宽。太小的话，某一层的输出就没有像素了。",
    ),
    "ex.ch": ("Input channels", "输入通道"),
    "ex.ch.1": ("1 · gray", "1 · 灰度"),
    "ex.ch.3": ("3 · RGB", "3 · RGB"),
    "ex.batch": ("Batch size", "批量大小"),
    "ex.batch.help": ("Only the activation memory depends on it.", "只有激活内存与它有关。"),
    "ex.bn": ("BatchNorm", "批量规范化"),
    "ex.bn.help": (
        "Batch normalisation after every conv and dense layer, before the activation.",
        "在每个卷积层和全连接层之后、激活函数之前加入批量规范化。",
    ),
    "ex.res": ("Residual", "残差连接"),
    "ex.res.help": (
        "Off: the same stack without the skips (and without the 1×1 shortcut convs): a plain deep net.",
        "关闭：同样的层但没有跳跃连接（也没有 1×1 捷径卷积），即普通的深层网络。",
    ),
    "ex.res.na": ("Only ResNet has residual connections.", "只有 ResNet 有残差连接。"),
    "ex.drop": ("Dropout", "丢弃概率"),
    "ex.drop.help": ("Probability of the dropout layers; 0 removes them.", "丢弃层的概率；0 表示去掉这些层。"),
    "ex.drop.na": ("{arch} has no dropout layers.", "{arch} 没有丢弃层。"),
    "ex.wd": ("Width divisor", "宽度除数"),
    "ex.wd.help": (
        "Divide every hidden channel count (the book trains VGG with channels ÷ 4 to fit Fashion-MNIST).",
        "把每个隐藏层的通道数除以它（书中用通道数 ÷ 4 的 VGG 训练 Fashion-MNIST）。",
    ),
    "ex.act": ("Activation", "激活函数"),
    "ex.act.relu": ("ReLU", "ReLU"),
    "ex.act.sigmoid": ("sigmoid", "sigmoid"),
    "ex.fix_side": ("Use the smallest valid side ({side} px)", "改用最小的有效边长（{side} 像素）"),
    "ex.m.params": ("Parameters", "参数量"),
    "ex.m.params.help": ("{n} weights and biases", "{n} 个权重和偏置"),
    "ex.m.macs": ("MACs per image", "每张图的乘加数"),
    "ex.m.macs.help": (
        "{n} multiply-accumulates for one example's forward pass (about half the FLOPs).",
        "一个样本前向传播的乘加运算次数：{n}（约为浮点运算次数的一半）。",
    ),
    "ex.m.param_mem": ("Parameter memory", "参数内存"),
    "ex.m.param_mem.help": ("float32, 4 bytes per parameter", "float32，每个参数 4 字节"),
    "ex.m.act_mem": ("Activations (batch {n})", "激活（批量 {n}）"),
    "ex.m.act_mem.help": (
        "Every layer's output for a batch of {n}: what training keeps in memory for the backward pass.",
        "批量为 {n} 时所有层的输出：训练时为反向传播需要保存在内存中的量。",
    ),
    "ex.m.depth": ("Depth", "深度"),
    "ex.m.depth.help": (
        "Layers with weights, as papers count depth: {conv} conv + {linear} dense.",
        "按论文的算法，只数有权重的层：{conv} 个卷积层 + {linear} 个全连接层。",
    ),
    "ex.m.min_side": ("Smallest input", "最小输入"),
    "ex.m.min_side.help": (
        "The smallest square input for which every layer still has output pixels.",
        "使每一层仍有输出像素的最小正方形输入边长。",
    ),
    "ex.idea": ("The idea of {arch}", "{arch} 的思想"),
    "ex.notice": ("What to notice at this input", "在这个输入下值得注意的"),
    "ex.view": ("View", "视图"),
    "ex.col.arith": ("Arithmetic", "计算过程"),
    "ex.col.arith.open": ("play it out", "逐步演示"),
    "ex.col.arith.help": (
        "Open this conv or pool in the convolution-arithmetic lab: the kernel sliding over the padded input",
        "在卷积算术实验中打开这一卷积或池化层：卷积核在填充后的输入上逐步滑动",
    ),
    "ex.tab.structure": ("Structure", "结构图"),
    "ex.tab.flow": ("Shape flow", "形状变化"),
    "ex.tab.rf": ("Receptive field", "感受野"),
    "ex.tab.table": ("Layer table", "逐层表格"),
    "ex.diagram.title": ("Structure, with the tensor shape on every edge", "结构图，每条边上标注张量形状"),
    "ex.expand": ("Blocks drawn in detail", "展开的块"),
    "ex.expand.help": (
        "Repeated blocks can be drawn as one box or in detail. Automatic: everything when the drawing stays "
        "short, else the first block of each kind.",
        "重复的块可以画成一个方框，也可以展开画出细节。自动：图不太长时全部展开，否则展开每种块的第一个。",
    ),
    "ex.expand.unit": ("{unit} · {c} channels out", "{unit} · 输出 {c} 通道"),
    "ex.px": ("{n} px", "{n} 像素"),
    "ex.expand.auto": ("Automatic", "自动"),
    "ex.expand.none": ("None: one box per block", "都不展开：每个块一个方框"),
    "ex.expand.all": ("All blocks", "全部展开"),
    "ex.legend": (
        "**Reading the diagram**  \n"
        ":blue-background[conv] :orange-background[pool] :violet-background[dense] :green-background[global pool] "
        ":gray-background[flatten] :orange-background[⊕ / concat]  \n"
        "Edges carry the tensor shape, channels × height × width (per example). Green dashes: a residual skip, "
        "labelled *identity* or drawn through its 1×1 conv. Hover a box for kernel, stride, padding, "
        "parameters and receptive field.",
        "**如何读图**  \n"
        ":blue-background[卷积] :orange-background[汇聚] :violet-background[全连接] :green-background[全局汇聚] "
        ":gray-background[展平] :orange-background[⊕ / 拼接]  \n"
        "边上标注张量形状：通道 × 高 × 宽（单个样本）。绿色虚线是残差的跳跃连接，标为*恒等映射*，"
        "或经过一个 1×1 卷积。把鼠标移到方框上可以看到卷积核、步幅、填充、参数量和感受野。",
    ),
    "ex.howto": (
        "BatchNorm, activations and dropout change no shape: they are folded into the box of the layer before them.",
        "批量规范化、激活函数和丢弃法不改变形状：它们并入前一层的方框中。",
    ),
    "ex.flow.caption": (
        "Top: channels (blue, log scale) and spatial side (orange) after each layer. Bottom: the memory each "
        "output takes. The shaded bands are the network's blocks. Dense layers count as a 1×1 map.",
        "上图：每层之后的通道数（蓝色，对数刻度）和空间边长（橙色）。下图：每个输出占用的内存。"
        "阴影带表示网络的各个块。全连接层视为 1×1 的特征图。",
    ),
    "ex.rf.caption": (
        "r_out = r_in + (k − 1)·j_in and j_out = j_in·s: each conv or pool widens what one unit sees by "
        "(kernel − 1) × the current jump. Smallest valid input for this configuration: {side} px.",
        "r_out = r_in + (k − 1)·j_in，j_out = j_in·s：每个卷积或汇聚层让一个单元看到的范围增加（核大小 − 1）× "
        "当前的跳距。该配置的最小有效输入：{side} 像素。",
    ),
    "ex.table.view": ("Show", "显示"),
    "ex.table.leaves": ("Layers", "各层"),
    "ex.table.blocks": ("Blocks", "各块"),
    "ex.table.all": ("Whole tree", "完整层级"),
    "ex.table.caption": (
        "Shapes are per example (batch {n} adds a leading N). Concat and ⊕ rows are the joins of Inception and "
        "residual blocks: operations, not modules, so they hold no parameters.",
        "形状按单个样本给出（批量 {n} 会在最前面加一个 N 维）。拼接和 ⊕ 行是 Inception 块和残差块的合并操作："
        "它们是运算而不是模块，所以没有参数。",
    ),
    "ex.col.layer": ("layer", "层"),
    "ex.col.type": ("type", "类型"),
    "ex.col.output": ("output shape", "输出形状"),
    "ex.col.params": ("parameters", "参数量"),
    "ex.col.macs": ("MACs", "乘加数"),
    "ex.col.share": ("share of parameters", "参数占比"),
    "ex.col.share.help": ("For a block: its whole subtree.", "对于块：其下所有层的总和。"),
})
STRINGS.update({
    # --- VGG designer ---------------------------------------------------------------------------
    "de.title": ("VGG designer", "VGG 设计器"),
    "de.intro": (
        "A VGG is data: a list of blocks, each some 3×3 convolutions (padding 1 keeps the size) and a 2×2 max "
        "pool that halves it. Change the blocks and watch the map shrink, the channels grow and the parameters "
        "pile up in the dense head.",
        "VGG 就是一份数据：一串块，每个块是若干个 3×3 卷积（填充 1 保持尺寸）加一个把尺寸减半的 2×2 最大汇聚层。"
        "改变这些块，看特征图如何缩小、通道数如何增长、参数如何堆积在全连接层里。",
    ),
    "de.presets": ("Presets", "预设"),
    "de.blocks": ("Number of blocks", "块的个数"),
    "de.blocks.help": ("Each block halves the side: 5 blocks turn 224 into 7.", "每个块把边长减半：5 个块把 224 变成 7。"),
    "de.col.block": ("block", "块"),
    "de.col.convs": ("3×3 convs", "3×3 卷积层数"),
    "de.col.chans": ("channels", "通道数"),
    "de.convs": ("Block {i}: convolutions", "第 {i} 块：卷积层数"),
    "de.chans": ("Block {i}: channels", "第 {i} 块：通道数"),
    "de.side": ("Input side (pixels)", "输入边长（像素）"),
    "de.fc": ("Dense layer width", "全连接层宽度"),
    "de.fc.help": (
        "The two hidden dense layers; VGG uses 4096 (the book keeps 4096 even in its small VGG).",
        "两个隐藏全连接层的宽度；VGG 用 4096（书中的小 VGG 也保留 4096）。",
    ),
    "de.is": ("This is {name}", "这就是 {name}"),
    "de.custom": ("Your own VGG", "你自己的 VGG"),
    "de.halving": ("Side after each block: {steps}", "每个块之后的边长：{steps}"),
    "de.collapsed": (
        "The feature map collapses: {n} blocks halve the {side}-pixel input to nothing. Remove a block or enlarge "
        "the input.",
        "特征图坍缩了：{n} 个块把 {side} 像素的输入减半到什么都不剩。请去掉一个块或增大输入。",
    ),
    "de.m.conv": ("Convolutional part", "卷积部分"),
    "de.m.dense": ("Dense head", "全连接部分"),
    "de.m.share": ("Dense share", "全连接占比"),
    "de.flatten": (
        "The last block's {shape} map flattens to {n} features; the first dense layer alone has {n} × {fc} = {w} "
        "weights.",
        "最后一块的 {shape} 特征图展平为 {n} 个特征；仅第一个全连接层就有 {n} × {fc} = {w} 个权重。",
    ),
    "de.flow.title": ("Shape flow of your VGG", "你的 VGG 的形状变化"),
    "de.yours": ("your VGG", "你的 VGG"),
    "de.ref_missing": ("{arch} is left out: it needs an input of at least {side} px.",
                       "未显示 {arch}：它需要至少 {side} 像素的输入。"),
    "de.split.caption": (
        "All at {side}×{side} input. NiN keeps only convolutions: 1×1 convs and global average pooling replace "
        "the dense head.",
        "输入均为 {side} 像素。NiN 只保留卷积：用 1×1 卷积和全局平均汇聚取代了全连接层。",
    ),
})
STRINGS.update({
    # --- compare page -------------------------------------------------------------------------
    "cmp.page.title": ("Compare architectures", "架构对比"),
    "cmp.page.intro": (
        "Every network of the chapter at the same input: how many parameters, how much compute and memory, how "
        "deep. Bars use log scales: VGG has 60 times NiN's parameters.",
        "本章所有网络在同一输入下的对比：参数量、计算量、内存和深度。条形图使用对数刻度：VGG 的参数是 NiN 的 60 多倍。",
    ),
    "cmp.side.help": (
        "One side for all; a network whose smallest valid input is larger gets a note instead of numbers.",
        "所有网络使用同一边长；最小有效输入比它大的网络只显示一条说明。",
    ),
    "cmp.title.at": ("Every architecture at {ch}×{side}×{side}", "所有架构，输入 {ch}×{side}×{side}"),
    "cmp.col.arch": ("architecture", "架构"),
    "cmp.col.year": ("year", "年份"),
    "cmp.col.macs": ("MACs per image", "每张图的乘加数"),
    "cmp.col.mem": ("activations, batch {n}", "激活（批量 {n}）"),
    "cmp.col.note": ("note", "说明"),
    "cmp.too_small": ("too small: needs ≥ {side} px", "输入太小：需要 ≥ {side} 像素"),
    "cmp.col.depth": ("depth", "深度"),
    "cmp.some_missing": (
        "{names}: not drawn, the {side}-pixel input is too small for them (see the table).",
        "{names}：未画出，{side} 像素的输入对它们来说太小（见表格）。",
    ),
    "cmp.bars.caption": (
        "Colours follow the family. Flatten-headed nets (AlexNet, VGG, LeNet) grow their first dense layer with "
        "the input; NiN, GoogLeNet and ResNet keep the same parameters at any size thanks to global average pooling.",
        "颜色表示所属家族。以展平连接全连接层的网络（AlexNet、VGG、LeNet）的第一个全连接层随输入增大；"
        "NiN、GoogLeNet 和 ResNet 因为使用全局平均汇聚，任何输入尺寸下参数量都不变。",
    ),
    "cmp.scatter.caption": (
        "Up: more weights to store. Right: more arithmetic per image. GoogLeNet and ResNet buy depth and compute "
        "with few parameters.",
        "越往上，需要存储的权重越多；越往右，每张图的运算越多。GoogLeNet 和 ResNet 用很少的参数换来了深度和计算。",
    ),
    # --- home page ----------------------------------------------------------------------------
    "home.intro": (
        "An interactive companion to the *modern convolutional networks* chapter of *Dive into Deep Learning*. "
        "Pick a network and an input size and see every tensor shape, parameter count and cost, with the "
        "Inception lanes and residual skips drawn out. Everything is computed from the real PyTorch models, "
        "traced on the meta device: no weights, no GPU, instant.",
        "《动手学深度学习》“现代卷积神经网络”一章的交互式配套工具。选择一个网络和输入尺寸，"
        "即可看到每个张量的形状、参数量和计算量，Inception 的并行路径和残差的跳跃连接都一一画出。"
        "所有数字都来自真实的 PyTorch 模型，在 meta 设备上推算：不需要权重，不需要 GPU，即时得到结果。",
    ),
    "home.open": ("Explore {arch}", "浏览 {arch}"),
    "home.pages": ("Pages", "页面"),
    "home.page.explorer": (
        "One network: structure diagram, shape flow, receptive field, layer table.",
        "单个网络：结构图、形状变化、感受野、逐层表格。",
    ),
    "home.page.designer": (
        "Build a VGG block by block; see where the parameters go.",
        "一块一块地搭建 VGG；看参数都去了哪里。",
    ),
    "home.page.compare": ("All networks at one input size, side by side.", "所有网络在同一输入尺寸下并排对比。"),
    "home.class": ("In class", "课堂使用"),
    "home.class.body": (
        "- Every page keeps its settings in the address bar: copy the link and students open the same view.\n"
        "- The language switch is in the sidebar; links remember it.\n"
        "- Hover any box or point for its details: kernel, stride, padding, shapes, parameters.",
        "- 每个页面都把设置保存在地址栏中：复制链接，学生打开的就是同一个视图。\n"
        "- 语言切换在侧边栏；链接会记住所选语言。\n"
        "- 把鼠标移到任意方框或数据点上可以看到细节：卷积核、步幅、填充、形状、参数量。",
    ),
})
STRINGS.update({
    # short names for crowded charts
    "arch.short.alexnet": ("AlexNet", "AlexNet"),
    "arch.short.vgg11": ("VGG-11", "VGG-11"),
    "arch.short.vgg13": ("VGG-13", "VGG-13"),
    "arch.short.vgg16": ("VGG-16", "VGG-16"),
    "arch.short.vgg19": ("VGG-19", "VGG-19"),
    "arch.short.vgg11_small": ("VGG-11 ÷4", "VGG-11 ÷4"),
    "arch.short.nin": ("NiN", "NiN"),
    "arch.short.googlenet": ("GoogLeNet", "GoogLeNet"),
    "arch.short.lenet": ("LeNet+BN", "LeNet+BN"),
    "arch.short.resnet18": ("ResNet-18", "ResNet-18"),
    "arch.short.resnet34": ("ResNet-34", "ResNet-34"),
})
