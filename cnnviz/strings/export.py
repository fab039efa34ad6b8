"""Strings of the export to plain PyTorch: the download buttons, the CLI, and the comments and
notebook text written into the exported files."""

STRINGS = {
    # --- the pages' buttons
    "export.button.py": ("Export as PyTorch script", "导出为 PyTorch 脚本"),
    "export.button.py.help": ("A standalone .py file of this configuration, in the book's style: it builds the "
                              "network with PyTorch alone and prints each layer's output shape and the parameter "
                              "count.",
                              "此配置的独立 .py 文件，书中的写法：只用 PyTorch 搭建网络，并打印每层的输出形状和参数量。"),
    "export.button.ipynb": ("Export as notebook", "导出为 Notebook"),
    "export.button.ipynb.help": ("A Jupyter notebook with the same code and a short training loop on Fashion-MNIST.",
                                 "包含同样代码和一段 Fashion-MNIST 简短训练循环的 Jupyter Notebook。"),
    # --- the exported files
    "export.header": ("{title}: plain PyTorch, exported from cnnviz", "{title}：纯 PyTorch 代码，由 cnnviz 导出"),
    "export.settings": ("settings:", "配置："),
    "export.run": ("needs only PyTorch; run it with: python <this file>", "只需要 PyTorch；运行：python <本文件>"),
    "export.family.alexnet": ("AlexNet", "AlexNet"),
    "export.family.vgg": ("VGG (custom blocks)", "VGG（自定义块）"),
    "export.family.nin": ("NiN", "NiN"),
    "export.family.googlenet": ("GoogLeNet", "GoogLeNet"),
    "export.family.batchnorm": ("LeNet", "LeNet"),
    "export.family.resnet": ("ResNet", "ResNet"),
    "export.c.alex_stem": ("an 11x11 window with stride 4 to shrink the large input fast",
                           "用 11x11 的大窗口、步幅 4 快速缩小输入"),
    "export.c.flat": ("Flatten turns the {c} x {h} x {w} map into {n} features",
                      "Flatten 把 {c} x {h} x {w} 的特征图展平为 {n} 个特征"),
    "export.c.vgg_block": ("num_convs 3x3 convs (padding 1 keeps the side), then a 2x2 max pool that halves it",
                           "num_convs 个 3x3 卷积（填充 1 保持高宽），再接一个使高宽减半的 2x2 最大汇聚层"),
    "export.c.ratio": ("the book's channel ratio: every block gets fewer channels",
                       "书中的通道比例：每个块的通道数都除以它"),
    "export.c.vgg_head": ("the last block leaves a {h} x {w} map per channel", "最后一个块的每个通道剩下 {h} x {w} 的特征图"),
    "export.c.nin_1x1": ("two 1x1 convs: a dense layer applied at every pixel", "两个 1x1 卷积：在每个像素上作用的全连接层"),
    "export.c.nin_classes": ("the last block has one output channel per class ({n})",
                             "最后一个块的输出通道数等于类别数（{n}）"),
    "export.c.inception": ("c1--c4: the output channels of the four paths", "c1--c4：四条路径的输出通道数"),
    "export.c.concat": ("concatenate the four paths along the channel dimension", "在通道维度上连结四条路径的输出"),
    "export.c.skip": ("f(x) + x: the residual connection", "f(x) + x：残差连接"),
    "export.c.plain": ("no skip: the plain network ResNet is compared with", "没有跳连：与 ResNet 对比的普通网络"),
    "export.c.halve": ("the first block of every later stage halves the height and width; a 1x1 conv matches the "
                       "shortcut to it",
                       "之后每个阶段的第一个块把高宽减半；捷径上用 1x1 卷积与之匹配"),
    "export.c.scratch_bn": ("batch normalisation from scratch, as in the notes (section 5.2)",
                            "从零实现的批量规范化，与笔记第 5.2 节相同"),
    "export.c.eval": ("running statistics: one example is enough to see the shapes",
                      "使用移动平均统计量：一个样本就足以查看形状"),
    "export.nb.intro": ("Exported from cnnviz: the network of this configuration in plain PyTorch, its output shapes "
                        "layer by layer, and a short training run on Fashion-MNIST. Change the variables in the next "
                        "cell to train longer.",
                        "由 cnnviz 导出：此配置的网络（纯 PyTorch）、逐层的输出形状，以及在 Fashion-MNIST 上的简短训练。"
                        "修改下一个单元格中的变量即可训练更久。"),
    "export.nb.data_dir": ("where torchvision finds (or downloads) Fashion-MNIST",
                           "torchvision 读取（或下载）Fashion-MNIST 的目录"),
    "export.nb.steps": ("training steps (minibatches)", "训练步数（小批量个数）"),
    "export.nb.lr": ("the book's learning rate for this network", "书中为此网络使用的学习率"),
    "export.nb.eval": ("test batches for the accuracy; None: the whole test set",
                       "计算准确率用的测试批量数；None 表示整个测试集"),
    "export.nb.walk": ("One random example through the network, layer by layer, as the book does: the output shape "
                       "of every layer, then the parameter count.",
                       "像书中一样，让一个随机样本逐层通过网络：先看每层的输出形状，再看参数量。"),
    "export.nb.train": ("Training, in the style of d2l: Xavier initialisation, minibatch SGD and cross-entropy loss.",
                        "训练，采用 d2l 的写法：Xavier 初始化、小批量随机梯度下降和交叉熵损失。"),
    "export.nb.subset": ("the head has {n} outputs: keep the first {n} classes of Fashion-MNIST",
                         "输出层只有 {n} 个输出：只保留 Fashion-MNIST 的前 {n} 个类别"),
    # --- the CLI
    "err.export_write": ("cannot write {path}: {reason}", "无法写入 {path}：{reason}"),
}
