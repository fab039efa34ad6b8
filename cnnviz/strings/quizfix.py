"""Strings of the quiz and labs fixes (issue 21, item 5): a collapse drawn up to its failed
layer, the side's number box, the quiz's saved progress and its choices' layer types."""

STRINGS = {
    # --- an input too small: the layers up to the one that fails ---------------------------------
    "quizfix.dg.failed": ("✕ {label}: no output", "✕ {label}：无输出"),
    "quizfix.dg.failed.hover": (
        "The input is too small here: this window has no output pixel",
        "输入在这里太小了：这个窗口没有输出像素",
    ),
    "quizfix.table.failed": ("✕ no output pixel", "✕ 没有输出像素"),
    "quizfix.table.unfinished": ("not reached", "未到达"),
    "quizfix.collapse.head": (
        "The layers up to the one that fails (marked ✕)", "直到出错那一层的各层（标记为 ✕）",
    ),
    "quizfix.collapse.caption": (
        "Everything before `{layer}` ran at this input; `{layer}` is the first window left with no pixel, "
        "so the layers after it never run.",
        "在这个输入下，`{layer}` 之前的各层都能运行；`{layer}` 是第一个没有像素可输出的窗口，其后的层不会运行。",
    ),
    "quizfix.collapse.diagram": ("Structure up to the collapse", "直到失效处的结构"),
    # --- the input side's number box --------------------------------------------------------------
    "quizfix.side.box": ("Side (px)", "边长（像素）"),
    "quizfix.side.box.help": (
        "Type an exact side; the slider follows", "输入精确的边长；滑块会随之移动",
    ),
    # --- the quiz ----------------------------------------------------------------------------------
    "quizfix.saved": (
        "Your answers are kept for this browser: a reload brings them back.",
        "你的答案保存在这个浏览器中：重新加载页面后仍然在。",
    ),
    "quizfix.enter": ("Press Enter or Check to check the answer.", "按回车键或“检查”来检查答案。"),
    # --- the gradient-flow lab ------------------------------------------------------------------------
    "quizfix.grad.bn_note": (
        "BatchNorm is on by default: it rescales each layer's output to unit variance, so the plain net's "
        "gradients no longer vanish outright, yet in 40 steps the plain net barely moves from chance (loss 2.3) "
        "while the residual one learns. Turn it off and, at this depth, neither gets far in 40 steps.",
        "默认开启批量规范化：它把每层输出重新缩放到单位方差，普通网络的梯度不再完全消失；但在 40 步内普通网络的损失"
        "几乎停在随机水平（2.3），残差网络却在学习。关闭它，在这个深度下两者在 40 步内都走不远。",
    ),
}
