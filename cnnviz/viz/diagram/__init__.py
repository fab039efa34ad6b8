"""The structure diagram: ``layout(trace)`` places nodes and edges (``nodes``), ``figure``
draws them with plotly (``draw``). Both are pure functions of their inputs."""

from cnnviz.viz.diagram.draw import figure
from cnnviz.viz.diagram.nodes import FAILED, LANE_X, SKIP_X, UNIT_KINDS, default_expand, layout, shape_text, units

__all__ = ["FAILED", "LANE_X", "SKIP_X", "UNIT_KINDS", "default_expand", "figure", "layout", "shape_text", "units"]
