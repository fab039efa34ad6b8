"""Strings of the Results view of a finished run (``ui/results.py``, ``cnnviz/viz/results.py``) and of the
feature-map lab's "a finished run" weights."""

STRINGS = {
    # --- figures ----------------------------------------------------------------------------------
    "resv.cm.title": ("Confusion matrix (test images)", "混淆矩阵（测试图像）"),
    "resv.cm.title_norm": ("Confusion matrix, each row as a share of its true class", "混淆矩阵（每行按真实类别归一化）"),
    "resv.cm.true_axis": ("true class", "真实类别"),
    "resv.cm.pred_axis": ("predicted class", "预测类别"),
    "resv.cm.count": ("images", "图像数"),
    "resv.cm.share": ("share", "比例"),
    "resv.cm.hover": ("true %{y}, predicted %{x}: %{customdata} images", "真实 %{y}，预测 %{x}：%{customdata} 张"),
    "resv.pc.title": ("Accuracy of each class", "各类别的准确率"),
    "resv.pc.axis": ("correct share of the class's test images", "该类测试图像中预测正确的比例"),
    "resv.pc.overall": ("overall {acc}", "总体 {acc}"),
    "resv.pc.none": ("no image", "无图像"),
    "resv.mis.title": ("Misclassified test images, most confident first ({n} shown)",
                       "分类错误的测试图像，最自信的在前（显示 {n} 张）"),
    "resv.mis.caption": ("{true} → {pred} ({p})", "{true} → {pred} ({p})"),
    "resv.mis.none": ("No test image was misclassified.", "没有分类错误的测试图像。"),
    "resv.top.title": ("Top {k} predictions", "前 {k} 个预测"),
    "resv.top.axis": ("probability (softmax)", "概率（softmax）"),
    # --- the view ----------------------------------------------------------------------------------
    "resv.title": ("Results of the trained network", "训练好的网络的结果"),
    "resv.acc": ("Test accuracy", "测试准确率"),
    "resv.n": ("Test images", "测试图像"),
    "resv.n.help": ("the run's whole test split ({dataset})", "该运行的整个测试集（{dataset}）"),
    "resv.wrong": ("Misclassified", "分类错误"),
    "resv.tab.confusion": ("Confusion matrix", "混淆矩阵"),
    "resv.tab.mistakes": ("Mistakes", "错误样例"),
    "resv.tab.maps": ("Feature maps", "特征图"),
    "resv.tab.try": ("Try your own", "试试你的图片"),
    "resv.normalise": ("Show each row as a share of its true class", "每行按真实类别显示比例"),
    "resv.not_finished": (
        "The results appear here once the run has completed or been stopped.",
        "运行完成或停止后，这里会显示结果。",
    ),
    "resv.mis.note": (
        "The {n} wrong answers the network was surest of, from the test images it never trained on.",
        "网络最有把握却答错的 {n} 张测试图像（训练时从未见过）。",
    ),
    # weights
    "resv.w.kept": (
        "Weights of this run: {size}, kept on the server. All kept weights: {total} of {cap} in {files} file(s) "
        "(at most {run_cap} a run); past that the oldest are evicted first.",
        "本次运行的权重：{size}，保存在服务器上。全部已保存的权重：{total} / {cap}，共 {files} 个文件"
        "（每次运行最多 {run_cap}）；超过上限时最早的先被删除。",
    ),
    "resv.w.evicted": (
        "The weights of this run ({size}) were evicted: the server keeps {cap} of weights in all and deletes the "
        "oldest first. The confusion matrix and the mistakes still show (they were recorded when the run ended); "
        "feature maps and \"try your own\" need the weights: train the run again.",
        "这次运行的权重（{size}）已被删除：服务器总共只保留 {cap} 的权重，最早的先删除。混淆矩阵和错误样例仍可查看"
        "（运行结束时已记录）；特征图和“试试你的图片”需要权重：请重新训练。",
    ),
    "resv.w.too_big": (
        "The weights of this run ({size}) were not kept: over the cap of {run_cap} a run. The confusion matrix and "
        "the mistakes still show; feature maps and \"try your own\" need the weights.",
        "这次运行的权重（{size}）没有保存：超过了每次运行 {run_cap} 的上限。混淆矩阵和错误样例仍可查看；"
        "特征图和“试试你的图片”需要权重。",
    ),
    "resv.w.none": (
        "This run kept no weights; feature maps and \"try your own\" need them.",
        "这次运行没有保存权重；特征图和“试试你的图片”需要权重。",
    ),
    # feature maps of the trained network
    "resv.maps.source": ("Image", "图片"),
    "resv.maps.source.test": ("a test image", "测试图像"),
    "resv.maps.source.upload": ("an upload", "上传图片"),
    "resv.maps.index": ("Test image number (0–{last})", "测试图像编号（0–{last}）"),
    "resv.maps.label": ("true class: {name}", "真实类别：{name}"),
    "resv.maps.pred": ("the network says: {caption}", "网络的判断：{caption}"),
    "resv.data.fell_back": (
        "This run trained and was tested on the built-in synthetic set: {dataset} was not on the server when it ran.",
        "这次运行是在内置的合成数据集上训练和测试的：运行时服务器上没有 {dataset}。",
    ),
    "resv.maps.open_lab": ("Open in the feature-map lab", "在特征图实验中打开"),
    # try your own
    "resv.try.intro": (
        "Upload a PNG or JPEG, or draw: it is turned into what the network was trained on ({h}×{w}, {c} channel(s), "
        "a light object on a dark background) and the network gives its three best guesses.",
        "上传一张 PNG 或 JPEG，或者自己画一张：它会被转换成网络训练时的样子（{h}×{w}，{c} 个通道，暗背景上的亮物体），"
        "然后网络给出它最有把握的三个猜测。",
    ),
    "resv.try.source": ("Your image", "你的图片"),
    "resv.try.source.upload": ("upload", "上传"),
    "resv.try.source.draw": ("draw", "画一张"),
    "resv.try.fit": ("A non-square image is", "非正方形的图片会被"),
    "resv.try.fit.letterbox": ("letterboxed (whole image, padded)", "加边框（保留整张图，补边）"),
    "resv.try.fit.crop": ("cropped (centre square)", "裁剪（取中间的正方形）"),
    "resv.try.upload": ("PNG or JPEG, at most 5 MB", "PNG 或 JPEG，最大 5 MB"),
    "resv.try.first": ("Upload an image to see what the network makes of it.", "上传一张图片，看看网络怎么判断。"),
    "resv.try.draw_first": (
        "Draw something first: white on black, like the training images; the guesses follow each stroke.",
        "请先画点东西：黑底白字，和训练图像一样；每画完一笔，网络就重新猜一次。",
    ),
    "resv.try.seen": ("What the network sees ({h}×{w})", "网络看到的（{h}×{w}）"),
    "resv.try.canvas": (
        "Draw with the mouse (or a finger) in the square; the toolbar above it undoes, redoes and clears "
        "(the bin). The drawing is shrunk to the network's input.",
        "在方框里用鼠标（或手指）画；上方的工具栏可以撤销、重做和清空（垃圾桶）。画好的图会缩小到网络的输入大小。",
    ),
    # pickers (class board, teacher's page)
    "resv.pick": ("Results of a finished run", "已完成运行的结果"),
    "resv.pick.none": ("No finished run yet.", "还没有已完成的运行。"),
    "resv.pick.label": ("{title} · {status} · {acc}", "{title} · {status} · {acc}"),
    # --- the feature-map lab: weights of a finished run ------------------------------------------------
    "resv.fm.weights.run": ("a finished run", "已完成的运行"),
    "resv.fm.run": ("Finished run (the class's, weights kept)", "已完成的运行（本班的，权重已保存）"),
    "resv.fm.no_runs": (
        "No finished training run with kept weights yet: train one on the \"Train a network\" page.",
        "还没有保存了权重的已完成训练：请先在“训练网络”页面训练一次。",
    ),
    "resv.fm.from_run": (
        "Network, input ({h}×{w}, {c} channel(s)) and data come from the run: {title}.",
        "网络、输入（{h}×{w}，{c} 个通道）和数据都来自这次运行：{title}。",
    ),
    "resv.fm.bad_run": ("{error}; showing the untrained network instead", "{error}；改为显示未训练的网络"),
    "resv.url.bad_run": ("{name}={raw!r} is not a run id; using none", "{name}={raw!r} 不是运行编号；不使用"),
}
