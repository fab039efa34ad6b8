"""Compare's measured columns: speed and accuracy of each architecture's class-period run here."""

STRINGS = {
    "cmp.meas.col.speed": ("examples/s (class preset)", "样本/秒（课堂预设）"),
    "cmp.meas.col.speed.help": (
        "Training throughput of this architecture's own class-period recipe on this server: the mean "
        "over its epochs, evaluation excluded. Not at the input size chosen above.",
        "该架构自身课堂预设在本服务器上的训练吞吐量：各轮的平均值，不含评估。与上方所选输入尺寸无关。"),
    "cmp.meas.col.acc": ("test accuracy (class preset)", "测试准确率（课堂预设）"),
    "cmp.meas.col.acc.help": (
        "Test accuracy at the end of that run, on its test split.",
        "该次训练结束时在其测试集上的准确率。"),
    "cmp.meas.col.where": ("measured", "测量于"),
    "cmp.meas.col.where.help": (
        "Where and when: the machine, the device, the date the run ended, the dataset it used.",
        "在哪里、何时测量：机器、设备、训练结束的日期、所用数据集。"),
    "cmp.meas.none": ("not measured yet", "尚未测量"),
    "cmp.meas.caption": (
        "The last three columns come from this server's finished or pre-warmed class-period runs: each "
        "architecture at its own class-period recipe (its own input size and width), not at the side "
        "chosen above. The teacher's pre-warm fills one network per family; the others fill in once "
        "someone trains them with the class-period recipe on the training page.",
        "最后三列来自本服务器上已完成或预热的课堂预设训练：每个架构使用它自己的课堂预设（自己的输入尺寸和宽度），"
        "而不是上方所选的尺寸。教师的预热会为每个家族填入一个网络；其他网络要等有人在训练页面用课堂预设训练后才会填入。"),
    "cmp.meas.unavailable": (
        "The measured columns are not shown: {error}",
        "未显示测量列：{error}"),
}
