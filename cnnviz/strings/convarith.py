"""Strings of the convolution-arithmetic lab: the formula, its results, the figure and the page."""

_FRAC = r"\left\lfloor \frac{{{n} + 2\cdot {p} - {d}\cdot({k}-1) - 1}}{{{s}}} \right\rfloor + 1"

STRINGS = {
    "nav.convarith": ("Convolution arithmetic", "卷积的尺寸算术"),
    # --- the formula, with its numbers (LaTeX for st.latex, plain text elsewhere)
    "convarith.formula.latex": (
        r"\text{{out}} = " + _FRAC + r" = \left\lfloor \frac{{{num}}}{{{s}}} \right\rfloor + 1 = {out}",
        r"\text{{输出边长}} = " + _FRAC + r" = \left\lfloor \frac{{{num}}}{{{s}}} \right\rfloor + 1 = {out}",
    ),
    "convarith.formula.text": (
        "out = ⌊({n} + 2·{p} − {d}·({k}−1) − 1)/{s}⌋ + 1 = ⌊{num}/{s}⌋ + 1 = {out}",
        "输出边长 = ⌊({n} + 2·{p} − {d}·({k}−1) − 1)/{s}⌋ + 1 = ⌊{num}/{s}⌋ + 1 = {out}",
    ),
    "convarith.result": (
        "Output: {out}×{out} ({count} windows). The padded input is {padded} cells wide, one window covers {span}.",
        "输出：{out}×{out}（共 {count} 个窗口）。填充后的输入宽 {padded} 格，一个窗口覆盖 {span} 格。",
    ),
    "convarith.result.leftover": (
        "Output: {out}×{out} ({count} windows). The padded input is {padded} cells wide, one window covers {span}; "
        "the last {left} row(s) and column(s) are never read (the stride {s} overshoots).",
        "输出：{out}×{out}（共 {count} 个窗口）。填充后的输入宽 {padded} 格，一个窗口覆盖 {span} 格；"
        "最后 {left} 行和列从未被读取（步幅 {s} 跨过了它们）。",
    ),
    "convarith.collapse": (
        "No output (side {out}): the window covers {span} cells but the padded input is only {padded} "
        "({n} + 2·{p}) wide, so the kernel window does not fit in the padded input.",
        "没有输出（边长 {out}）：窗口覆盖 {span} 格，而填充后的输入只有 {padded}（{n} + 2·{p}）格宽，"
        "卷积核窗口放不进填充后的输入。",
    ),
    # --- the figure
    "convarith.fig.title": ("{op}: {n}×{n} input, kernel {k}, stride {s}, padding {p}, dilation {d} → {out}×{out}",
                            "{op}：输入 {n}×{n}，核 {k}，步幅 {s}，填充 {p}，膨胀 {d} → {out}×{out}"),
    "convarith.fig.title.collapse": ("{op}: {n}×{n} input, kernel {k}, padding {p}, dilation {d}: no output",
                                     "{op}：输入 {n}×{n}，核 {k}，填充 {p}，膨胀 {d}：没有输出"),
    "convarith.fig.input": ("input {n}×{n}", "输入 {n}×{n}"),
    "convarith.fig.padding": ("padding", "填充"),
    "convarith.fig.window": ("window", "窗口"),
    "convarith.fig.taps": ("cells read", "读取的格子"),
    "convarith.fig.output": ("output {out}×{out}", "输出 {out}×{out}"),
    "convarith.fig.filled": ("computed", "已计算"),
    "convarith.fig.current": ("this output cell", "当前输出格"),
    "convarith.fig.first": ("first window", "第一个窗口"),
    "convarith.fig.last": ("last window", "最后一个窗口"),
    "convarith.fig.too_big": ("window {span}×{span} > padded input {padded}×{padded}",
                              "窗口 {span}×{span} > 填充后输入 {padded}×{padded}"),
    "convarith.fig.step": ("output ", "输出 "),
    "convarith.fig.hover": ("window at ({r}, {c}) of the padded input: input rows {r0}–{r1}, columns {c0}–{c1}",
                            "窗口位于填充后输入的 ({r}, {c})：输入第 {r0}–{r1} 行、第 {c0}–{c1} 列"),
    "convarith.fig.hover_pad": ("window at ({r}, {c}) of the padded input: only padding",
                                "窗口位于填充后输入的 ({r}, {c})：只有填充"),
    "convarith.fig.play": ("Play", "播放"),
    "convarith.fig.pause": ("Pause", "暂停"),
    "convarith.fig.sampled": ("every {every}th window of {count} shown", "共 {count} 个窗口，每 {every} 个显示一个"),
    "convarith.op.conv": ("Convolution", "卷积"),
    "convarith.op.max": ("Max pooling", "最大汇聚"),
    "convarith.op.avg": ("Average pooling", "平均汇聚"),
    # --- the page
    "convarith.title": ("Convolution arithmetic", "卷积的尺寸算术"),
    "convarith.intro": (
        "How big is a layer's output? Pad the input, slide the kernel window by the stride, and count the "
        "positions where the whole window fits: that count per side is the output side. Press Play or drag "
        "the slider under the figure to watch the windows one by one.",
        "一层的输出有多大？先给输入加上填充，再以步幅滑动卷积核窗口，数一数整个窗口能放下的位置："
        "每一边的位置数就是输出边长。点击“播放”或拖动图下方的滑块，逐个观察窗口。",
    ),
    "convarith.n": ("Input side n", "输入边长 n"),
    "convarith.k": ("Kernel k", "核大小 k"),
    "convarith.s": ("Stride s", "步幅 s"),
    "convarith.p": ("Padding p", "填充 p"),
    "convarith.d": ("Dilation d", "膨胀 d"),
    "convarith.op": ("Operation", "运算"),
    "convarith.out_side": ("Output side", "输出边长"),
    "convarith.windows": ("Windows", "窗口数"),
    "convarith.to_scale": ("The input is larger than {cells} cells: drawn to scale, first and last windows marked.",
                           "输入大于 {cells} 格：按比例绘制，只标出第一个和最后一个窗口。"),
    "convarith.layer.opened": ("Opened {layer} ({type}) of {arch} at {side}×{side}: its input side, kernel, "
                               "stride and padding are set below.",
                               "已打开 {arch}（输入 {side}×{side}）的 {layer}（{type}）：下面已填入它的输入边长、核、"
                               "步幅和填充。"),
    "convarith.layer.trace_out": ("PyTorch's traced output of this layer: {h}×{w}.", "PyTorch 追踪得到的该层输出：{h}×{w}。"),
    "convarith.layer.no_arch": ("To open a layer, the link needs arch (e.g. alexnet) as well as layer.",
                                "要打开一层，链接除了 layer 还需要 arch（例如 alexnet）。"),
    # --- errors
    "err.convarith.range": ("{name} must be a whole number from {lo} to {hi}, not {value}",
                            "{name} 必须是 {lo} 到 {hi} 之间的整数，而不是 {value}"),
    "err.convarith.op": ("unknown operation {op}; choose one of {choices}", "未知的运算 {op}；请选择 {choices} 之一"),
    "err.convarith.pool_dilation": ("pooling here has no dilation (got {d}); dilation is for convolutions",
                                    "这里的汇聚没有膨胀（给定 {d}）；膨胀只用于卷积"),
    "err.convarith.pool_padding": (
        "a pooling layer's padding must be at most half its kernel ({k} // 2 = {half}), not {p}: PyTorch refuses more",
        "汇聚层的填充最多是核大小的一半（{k} // 2 = {half}），不能是 {p}：PyTorch 不接受更大的填充",
    ),
    "err.convarith.no_layer": ("the network has no layer called {name}", "网络中没有名为 {name} 的层"),
    "err.convarith.not_window": ("layer {name} ({type}) is not a convolution or pooling layer: it has no window",
                                 "层 {name}（{type}）不是卷积层或汇聚层：它没有滑动窗口"),
    "err.convarith.not_square": (
        "layer {name} is not square (kernel {kernel}, stride {stride}, padding {padding}, input {h}×{w})",
        "层 {name} 不是方形的（核 {kernel}，步幅 {stride}，填充 {padding}，输入 {h}×{w}）",
    ),
}
