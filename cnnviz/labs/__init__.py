"""The chapter's labs, each a plain-Python experiment the pages lay out: ``gradflow``
(plain against residual gradients), ``bnlab`` (BatchNorm from scratch, batch against
running statistics, a paired run), ``costlab`` (Inception and NiN arithmetic), ``featuremaps``
(activation maps of a dataset image or an upload), ``quiz`` (predict the shape) and
``convarith`` (the output-size formula). Their background jobs are ``cnnviz.jobs``'s kinds."""
