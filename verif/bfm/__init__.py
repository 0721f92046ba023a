"""Bus-functional models for the engine's flat valid/ready ports (cocotbext-axi style).

- :mod:`verif.bfm.stream`: generic :class:`StreamSource`, :class:`StreamSink`,
  :class:`StreamMonitor` over a :class:`StreamBus` (``<prefix>_valid/_ready/_<field>``), with
  pause generators and ``lib.stream`` protocol checks;
- :mod:`verif.bfm.dram`: reactive :class:`DramModel` (random latency, out of order,
  backpressure);
- :mod:`verif.bfm.entropy`: :class:`EntropyBFM` (deterministic words, switchable valid).
"""

from .dram import DramAccessRecord, DramModel
from .entropy import EntropyBFM, golden_words
from .stream import (
    CycleCounter,
    ProtocolError,
    StreamBus,
    StreamMonitor,
    StreamSink,
    StreamSource,
    StreamTransaction,
    cycle_pause,
    random_pause,
)

__all__ = [
    "CycleCounter", "ProtocolError", "StreamBus", "StreamMonitor", "StreamSink", "StreamSource",
    "StreamTransaction", "cycle_pause", "random_pause", "DramModel", "DramAccessRecord",
    "EntropyBFM", "golden_words",
]
