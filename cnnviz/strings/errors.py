"""Messages of ``cnnviz.errors``: every configuration, URL and upload problem a user can cause."""

STRINGS = {
    "err.shape": (
        "{kind} at {layer}: {h}×{w} input, kernel {k}, stride {s}{pad} → {arithmetic}",
        "{layer} 处的 {kind}：输入 {h}×{w}，卷积核 {k}，步幅 {s}{pad} → {arithmetic}",
    ),
    "err.shape.pad": (", padding {p}", "，填充 {p}"),
    "err.shape.min": (
        "; this network needs inputs of at least {min_side}×{min_side}",
        "；该网络的输入至少需要 {min_side}×{min_side}",
    ),
    "err.unknown_model": (
        "unknown architecture {name!r}; choose one of: {valid}",
        "未知的架构 {name!r}；可选：{valid}",
    ),
    "err.unknown_setting": (
        "unknown setting {names} for {cls}; valid: {valid}",
        "{cls} 没有设置项 {names}；可用的有：{valid}",
    ),
    "err.bad_value": ("{key}: cannot read {raw} as {type}", "{key}：无法把 {raw} 解读为 {type}"),
    "err.set_syntax": ("--set expects key=value, got {item!r}", "--set 需要 key=value 的形式，收到的是 {item!r}"),
    "err.input_syntax": (
        "--input expects C,H,W such as 1,224,224, got {text!r}",
        "--input 需要 C,H,W 的形式（例如 1,224,224），收到的是 {text!r}",
    ),
    "err.in_channels": (
        "in_channels must be 1 (grayscale) or 3 (RGB), got {value}",
        "输入通道数必须是 1（灰度）或 3（RGB），收到的是 {value}",
    ),
    "err.input_hw": ("input size must be (height, width), got {value}", "输入尺寸必须是（高，宽），收到的是 {value}"),
    "err.side_positive": (
        "input height and width must be positive, got {h}×{w}",
        "输入的高和宽必须为正数，收到的是 {h}×{w}",
    ),
    "err.side_cap": ("input side {side} is over the cap of {cap} pixels", "输入边长 {side} 超过了上限 {cap} 像素"),
    "err.setting": ("the setting {name}={raw!r} cannot work: expected {expected}", "设置 {name}={raw!r} 无法使用：应为 {expected}"),
    "err.range": ("{field} must be between {lo} and {hi}, got {value}", "{field} 必须在 {lo} 到 {hi} 之间，收到的是 {value}"),
    "err.dropout": ("dropout must be in [0, 1), got {value}", "丢弃概率必须在 [0, 1) 之内，收到的是 {value}"),
    "err.choice": ("{field} must be one of {choices}, got {value!r}", "{field} 必须是 {choices} 之一，收到的是 {value!r}"),
    "err.width_div_empty": (
        "width divisor {div} leaves no channels: {n} ÷ {div} = 0",
        "宽度除数 {div} 让通道数变成 0：{n} ÷ {div} = 0",
    ),
    "err.channels_cap": ("{n} channels in one layer is over the cap of {cap}", "单层 {n} 个通道超过了上限 {cap}"),
    "err.pairs": (
        "{field} must be a list of (count, channels) pairs, got {value!r}",
        "{field} 必须是（数量，通道数）对的列表，收到的是 {value!r}",
    ),
    "err.empty_arch": (
        "{field} is empty: the network needs at least one (count, channels) entry",
        "{field} 为空：网络至少需要一个（数量，通道数）条目",
    ),
    "err.too_many": ("{field} has {n} entries; the cap is {cap}", "{field} 有 {n} 项，上限是 {cap}"),
    "err.block_convs": ("block {i} has {n} convolutions; use 1 to {cap}", "第 {i} 个块有 {n} 个卷积层，应在 1 到 {cap} 之间"),
    "err.block_channels": ("block {i} has {n} channels; use 1 to {cap}", "第 {i} 个块有 {n} 个通道，应在 1 到 {cap} 之间"),
    "err.stage_blocks": ("stage {i} has {n} blocks; use 1 to {cap}", "第 {i} 个阶段有 {n} 个残差块，应在 1 到 {cap} 之间"),
    "err.stage_channels": ("stage {i} has {n} channels; use 1 to {cap}", "第 {i} 个阶段有 {n} 个通道，应在 1 到 {cap} 之间"),
    "err.no_fit": (
        "no input side up to the cap of {cap} pixels fits this network",
        "在 {cap} 像素的上限之内，没有任何输入边长适合这个网络",
    ),
    "err.batch_size": ("batch size must be between 1 and {cap}, got {value}", "批量大小必须在 1 到 {cap} 之间，收到的是 {value}"),
    "err.no_builder": ("no architecture is built from {cls}", "没有架构是由 {cls} 构建的"),
}
