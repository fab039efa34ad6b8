"""Serving cnnviz to a class: the replica launcher behind HAProxy (``python -m classroom``)."""
