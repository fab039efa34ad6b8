"""Strings shared by the whole app: its name, navigation, architecture names."""

STRINGS = {
    "app.title": ("cnnviz: modern CNNs, explained", "cnnviz：现代卷积神经网络图解"),
    "common.language": ("Language", "语言"),
    "nav.section.explore": ("Explore", "探索"),
    "nav.section.train": ("Train", "训练"),
    "nav.section.labs": ("Chapter labs", "章节实验"),
    "nav.home": ("Home", "首页"),
    "nav.explorer": ("Architecture explorer", "架构浏览器"),
    "nav.designer": ("VGG designer", "VGG 设计器"),
    "nav.compare": ("Compare", "对比"),
    "arch.alexnet": ("AlexNet", "AlexNet"),
    "arch.vgg11": ("VGG-11", "VGG-11"),
    "arch.vgg13": ("VGG-13", "VGG-13"),
    "arch.vgg16": ("VGG-16", "VGG-16"),
    "arch.vgg19": ("VGG-19", "VGG-19"),
    "arch.vgg11_small": ("VGG-11, channels ÷ 4 (the book's)", "VGG-11，通道数 ÷ 4（书中版本）"),
    "arch.nin": ("NiN", "NiN"),
    "arch.googlenet": ("GoogLeNet", "GoogLeNet"),
    "arch.lenet": ("LeNet with BatchNorm", "带批量规范化的 LeNet"),
    "arch.resnet18": ("ResNet-18", "ResNet-18"),
    "arch.resnet34": ("ResNet-34", "ResNet-34"),
}
