"""Plotly figures, every one styled by ``theme``: ``explore`` (shape flow, receptive field,
parameter split, comparison, timeline, the layer table), ``training`` (curves, gradient
bars and heatmaps), ``labs`` (the labs' charts) and ``diagram`` (the structure diagram).

pandas is imported here, before any figure is built: plotly finds pandas with
``_plotly_utils.optional_imports.get_module(..., should_load=False)``, which reads
``sys.modules`` without the import lock. While one Streamlit session's thread was still
importing pandas, another session building a figure got the half-initialised module and its
page failed ("partially initialized module 'pandas' has no attribute 'Series'"; seen when
several browsers opened a fresh replica at once). A plain ``import`` waits for an import in
progress in another thread, so every figure sees pandas whole.
"""

import pandas  # type: ignore[import-untyped]  # noqa: F401  (see above)
