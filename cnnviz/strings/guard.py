"""Storage shared fairly (each student's share of the kept weights) and the guarded teacher key
(waits after wrong keys, the record of failures, the remembered browser, weak keys)."""

STRINGS = {
    # --- kept weights: a student's share and the class's --------------------------------------
    "guard.w.kept": (
        "Weights of this run: {size}, kept on the server. Your saved networks: {mine} of {share}; the class: "
        "{total} of {cap} (at most {run_cap} a run). Past your share your own oldest go first; past the class's, "
        "those of whoever keeps the most.",
        "本次运行的权重：{size}，保存在服务器上。你保存的网络：{mine} / {share}；全班：{total} / {cap}"
        "（每次运行最多 {run_cap}）。超过你的份额时先删除你自己最早的；超过全班上限时删除保存最多的人的。",
    ),
    "guard.w.evicted": (
        "The weights of this run ({size}) were evicted to make room: each student keeps at most {share} and the "
        "class {cap}; a student past their share loses their own oldest first, then whoever keeps the most loses "
        "theirs. The confusion matrix and the mistakes still show (they were recorded when the run ended); "
        "feature maps and \"try your own\" need the weights: train the run again.",
        "这次运行的权重（{size}）已被删除以腾出空间：每位学生最多保存 {share}，全班最多 {cap}；超过份额的学生先失去"
        "自己最早的权重，其次是保存最多的人。混淆矩阵和错误样例仍可查看（运行结束时已记录）；特征图和“试试你的图片”"
        "需要权重：请重新训练。",
    ),
    # --- the teacher key ----------------------------------------------------------------------------
    "guard.key.wrong_wait": (
        "That is not the teacher key. After {n} wrong keys in a row, the next try is allowed in {s} s.",
        "教师密钥不正确。已连续输错 {n} 次，{s} 秒后才能再试。",
    ),
    "guard.key.wait": (
        "Too many wrong keys from this browser or this computer: wait {s} s, then try again (the key was not "
        "checked).",
        "这个浏览器或这台电脑输错密钥的次数太多：请等待 {s} 秒后再试（本次密钥未被检查）。",
    ),
    "guard.key.unlocked": (
        "Unlocked: this browser is the teacher's for {hours} hours, or until you lock it",
        "已解锁：此浏览器在 {hours} 小时内拥有教师权限，或直到你锁定为止",
    ),
    "guard.fail.title": ("Wrong teacher keys ({n})", "输错的教师密钥（{n}）"),
    "guard.fail.help": (
        "Wrong keys typed on this page in the last day: when, from which address and tab, and how many "
        "characters (never the key typed). Each address and tab waits longer after every wrong key.",
        "最近一天在此页面输错的密钥：时间、来自哪个地址和标签页，以及输入的字符数（从不记录输入的内容）。"
        "每个地址和标签页每输错一次，需要等待的时间就更长。",
    ),
    "guard.fail.none": ("No wrong teacher key in the last day", "最近一天没有输错的教师密钥"),
    "guard.fail.col.at": ("when", "时间"),
    "guard.fail.col.addr": ("address", "地址"),
    "guard.fail.col.session": ("tab", "标签页"),
    "guard.fail.col.length": ("characters typed", "输入的字符数"),
    "guard.addr.local": ("this computer", "本机"),
    # --- a weak key, said at start (the console) --------------------------------------------------
    "guard.weak_key": (
        "warning: CNNVIZ_TEACHER_KEY is weak ({why}): a student could guess it. Choose {n} or more characters "
        "that are not a word, or leave it unset for a generated key.",
        "警告：CNNVIZ_TEACHER_KEY 太弱（{why}）：学生可能猜到它。请选择 {n} 个或更多不构成单词的字符，"
        "或不设置它以使用自动生成的密钥。",
    ),
    "guard.weak.common": ("a common word or password", "常见单词或密码"),
    "guard.weak.word": ("a common word with digits or symbols added", "常见单词加上数字或符号"),
    "guard.weak.pattern": ("a keyboard or alphabet run, or one character repeated", "键盘或字母顺序，或重复的字符"),
    "guard.weak.short": ("shorter than {n} characters", "短于 {n} 个字符"),
}
