"""Strings of the predict-the-shape quiz: questions, explanations, the page and the CLI."""

STRINGS = {
    "nav.quiz": ("Predict the shape", "预测形状"),
    # --- the questions ({setup}: the network and its switches) -------------------------------
    "quiz.setup.input": ("input {shape}", "输入 {shape}"),
    "quiz.setup.channels": ("{c}-channel input", "{c} 通道输入"),
    "quiz.setup.bn_on": ("BatchNorm on", "开启批量规范化"),
    "quiz.setup.bn_off": ("BatchNorm off", "关闭批量规范化"),
    "quiz.setup.res_on": ("residual connections on", "开启残差连接"),
    "quiz.setup.res_off": ("residual connections off (plain net)", "关闭残差连接（普通网络）"),
    "quiz.setup.wd": ("channels ÷ {wd}", "通道数 ÷ {wd}"),
    "quiz.q.shape": (
        "{setup}. What is the output shape C×H×W of layer `{layer}` ({type}, kernel {k}, stride {s}, padding {p})?",
        "{setup}。层 `{layer}`（{type}，核 {k}，步幅 {s}，填充 {p}）的输出形状 C×H×W 是多少？",
    ),
    "quiz.q.params": (
        "{setup}. How many parameters, biases included, does the convolution `{layer}` "
        "({k}×{k}, {cin} → {cout} channels) have?",
        "{setup}。卷积层 `{layer}`（{k}×{k}，{cin} → {cout} 个通道）有多少个参数（含偏置）？",
    ),
    "quiz.q.collapse": (
        "{setup}. A side of {side} is too small for this network: which layer is the first to be left "
        "with no output pixel?",
        "{setup}。边长 {side} 对这个网络太小了：哪一层最先没有输出像素？",
    ),
    "quiz.q.min_side": (
        "{setup}. What is the smallest square input side this network accepts?",
        "{setup}。这个网络能接受的最小正方形输入边长是多少？",
    ),
    "quiz.q.rf": (
        "{setup}. What is the receptive field (its side, in input pixels) of one output unit of `{layer}`?",
        "{setup}。`{layer}` 的一个输出单元的感受野（边长，以输入像素计）是多少？",
    ),
    "quiz.q.inception": (
        "{setup}. How many channels does the Inception block `{layer}` output?",
        "{setup}。Inception 块 `{layer}` 输出多少个通道？",
    ),
    # --- the explanations --------------------------------------------------------------------
    "quiz.why.shape": (
        "Each window maps a side n to ⌊(n + 2p − k)/s⌋ + 1. The layers that resize the map on the way, then the layer:",
        "每个窗口把边长 n 变为 ⌊(n + 2p − k)/s⌋ + 1。先是沿途改变特征图大小的层，最后是这一层：",
    ),
    "quiz.why.params": (
        "A convolution has k²·c_in·c_out weights and c_out biases:",
        "卷积层有 k²·c_in·c_out 个权重和 c_out 个偏置：",
    ),
    "quiz.why.collapse": (
        "Follow the side from {side} through the windows that change it, ⌊(n + 2p − k)/s⌋ + 1, until one gives "
        "less than 1 (a 3×3 convolution with padding 1 keeps the side):",
        "从 {side} 开始，让边长依次经过会改变它的窗口 ⌊(n + 2p − k)/s⌋ + 1，直到某一层的结果小于 1"
        "（填充为 1 的 3×3 卷积不改变边长）：",
    ),
    "quiz.why.min_side": (
        "At side {side_fail} some window is left with no pixel; at {side} every window keeps at least one:",
        "边长为 {side_fail} 时有一个窗口没有输出像素；边长为 {side} 时每个窗口至少保留一个：",
    ),
    "quiz.why.rf": (
        "Start with r = 1 and j = 1 (the jump between neighbouring units). Each window widens the field by "
        "(k − 1)·j and multiplies the jump by its stride:",
        "从 r = 1、j = 1（相邻单元之间的跨度）开始。每个窗口使感受野增加 (k − 1)·j，并把跨度乘以它的步幅：",
    ),
    "quiz.why.inception": (
        "The four paths keep H×W and are concatenated along channels, c1 + c2 + c3 + c4:",
        "四条路径保持 H×W 不变，并沿通道拼接：c1 + c2 + c3 + c4：",
    ),
    "quiz.why.answer": ("Answer: **{answer}** (layer `{layer}`).", "答案：**{answer}**（层 `{layer}`）。"),
    # formulas: the same in both languages
    "quiz.step.h": ("`{layer}`: H = {expr} = {value}", "`{layer}`: H = {expr} = {value}"),
    "quiz.step.w": ("`{layer}`: W = {expr} = {value}", "`{layer}`: W = {expr} = {value}"),
    "quiz.step.side_fail": (
        "`{layer}` at the smaller side: {expr} = {value}",
        "`{layer}`（较小边长时）：{expr} = {value}",
    ),
    "quiz.step.c_conv": (
        "`{layer}`: C = {value}, the convolution's output channels",
        "`{layer}`：C = {value}，即卷积的输出通道数",
    ),
    "quiz.step.c_pool": (
        "`{layer}`: C = {value}, a pooling layer keeps the channels",
        "`{layer}`：C = {value}，汇聚层不改变通道数",
    ),
    "quiz.step.params": ("`{layer}`: {expr} = {value}", "`{layer}`: {expr} = {value}"),
    "quiz.step.r": ("`{layer}`: r = {expr} = {value}", "`{layer}`: r = {expr} = {value}"),
    "quiz.step.j": ("`{layer}`: j = {expr} = {value}", "`{layer}`: j = {expr} = {value}"),
    "quiz.step.sum": ("`{layer}`: {expr} = {value}", "`{layer}`: {expr} = {value}"),
    # --- the kinds, as the page and the CLI name them -------------------------------------------
    "quiz.kind.shape": ("Output shape", "输出形状"),
    "quiz.kind.params": ("Parameter count", "参数量"),
    "quiz.kind.collapse": ("Which layer collapses?", "哪一层先消失？"),
    "quiz.kind.min_side": ("Smallest input", "最小输入"),
    "quiz.kind.rf": ("Receptive field", "感受野"),
    "quiz.kind.inception": ("Inception channels", "Inception 通道数"),
    # --- errors ------------------------------------------------------------------------------
    "err.quiz_range": (
        "{field} must be a whole number from {lo} to {hi}, not {value}",
        "{field} 必须是 {lo} 到 {hi} 之间的整数，而不是 {value}",
    ),
    "err.quiz_choice": (
        "{raw!r} is not one of the choices: {choices}",
        "{raw!r} 不是可选项之一：{choices}",
    ),
    "err.quiz_shape": (
        "could not read {raw!r} as a shape: type {n} whole numbers, such as 64x28x28",
        "无法把 {raw!r} 读作形状：请输入 {n} 个整数，例如 64x28x28",
    ),
    "err.quiz_number": (
        "could not read {raw!r} as a whole number: type digits, such as 1,234",
        "无法把 {raw!r} 读作整数：请输入数字，例如 1,234",
    ),
    # --- the page ------------------------------------------------------------------------------
    "quiz.title": ("Predict the shape", "预测形状"),
    "quiz.intro": (
        "Questions drawn from real traces of the chapter's networks at varied inputs and switches. Work the answer "
        "out with the output-size formula, then check it; a wrong answer shows the arithmetic. The seed is in the "
        "link: the same seed is the same quiz for the whole class.",
        "题目来自本章网络在不同输入和开关下的真实追踪结果。先用输出尺寸公式算出答案，再检查；答错时会显示计算过程。"
        "随机种子保存在链接中：同一个种子，全班得到同一套题。",
    ),
    "quiz.seed": ("Quiz seed", "题目种子"),
    "quiz.seed.help": (
        "Share the link and the class gets the same questions", "分享链接，全班就会得到相同的题目",
    ),
    "quiz.new": ("New quiz", "换一套题"),
    "quiz.prev": ("Previous", "上一题"),
    "quiz.next": ("Next", "下一题"),
    "quiz.check": ("Check", "检查"),
    "quiz.answer": ("Your answer", "你的答案"),
    "quiz.answer.help": (
        "A shape as C×H×W (64x28x28, 64 × 28 × 28 or (64, 28, 28)); a count as digits (1,234)",
        "形状写成 C×H×W（64x28x28、64 × 28 × 28 或 (64, 28, 28)）；数量写成数字（1,234）",
    ),
    "quiz.pick": ("Pick a layer", "选择一层"),
    "quiz.progress": ("Question {i} of {n}: {kind}", "第 {i} 题，共 {n} 题：{kind}"),
    "quiz.score": ("Score", "得分"),
    "quiz.score.value": ("{right} / {n}", "{right} / {n}"),
    "quiz.score.help": (
        "Questions answered right on this seed's quiz (kept for this browser), out of the quiz's questions",
        "本套题中答对的题数（保存在这个浏览器中）/ 本套题的总题数",
    ),
    "quiz.empty": ("Type an answer (or pick one) first.", "请先输入（或选择）一个答案。"),
    "quiz.right": ("Right: {answer}.", "正确：{answer}。"),
    "quiz.wrong": ("Not quite: you answered {given}, the network says {answer}.", "不太对：你的答案是 {given}，网络给出的是 {answer}。"),
    "quiz.how": ("How to work it out", "怎样算出来"),
    "quiz.explorer": ("Open `{layer}` in the explorer", "在架构浏览器中打开 `{layer}`"),
    # --- the command line ----------------------------------------------------------------------
    "quiz.cli.title": ("quiz, seed {seed}: {n} questions", "测验，种子 {seed}：共 {n} 题"),
    "quiz.cli.choices": ("   choices: {choices}", "   选项：{choices}"),
    "quiz.cli.answer": ("   answer: {answer}  (layer {layer})", "   答案：{answer}（层 {layer}）"),
}
