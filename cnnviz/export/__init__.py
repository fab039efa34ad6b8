"""Everything a student can take away, in one place: a network as plain PyTorch (``code``: a
script or a notebook, with no cnnviz inside) and a run's metrics as CSV (``runcsv``)."""
