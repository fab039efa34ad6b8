"""The chapter's labs, each a plain-Python experiment the pages lay out: ``gradflow``
(plain against residual gradients), ``bnlab`` (BatchNorm from scratch, batch against
running statistics, a paired run), ``costlab`` (Inception and NiN arithmetic) and
``featuremaps`` (activation maps of a dataset image or an upload)."""
