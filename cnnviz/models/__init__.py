"""One module per architecture of the chapter, in its order; importing registers them all."""

from . import alexnet, vgg, nin, googlenet, lenet, resnet  # noqa: F401
