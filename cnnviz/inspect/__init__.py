"""Shape and cost inspection on the meta device, in torchinfo's order: records (``records``),
then totals (``totals``), then rendering (``render``); ``tracing.trace`` ties them together."""

from cnnviz.inspect.records import LayerRecord
from cnnviz.inspect.render import format_summary
from cnnviz.inspect.totals import Totals
from cnnviz.inspect.tracing import Trace, trace
from cnnviz.numbers import human, human_bytes

__all__ = ["LayerRecord", "Totals", "Trace", "format_summary", "human", "human_bytes", "trace"]
