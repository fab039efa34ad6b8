"""Plotly figures, every one styled by ``theme``: ``explore`` (shape flow, receptive field,
parameter split, comparison, timeline, the layer table), ``training`` (curves, gradient
bars and heatmaps), ``labs`` (the labs' charts) and ``diagram`` (the structure diagram)."""
