"""A first-in first-out queue with ``lib.stream`` ports and a typed payload.

The engine's queues hold structured entries (order-queue entries, tweaks, lines); this wraps
Amaranth's :class:`~amaranth.lib.fifo.SyncFIFO` so both ends are streams whose payload is a
:class:`~amaranth.lib.data.View` of the entry layout.
"""

from amaranth import Module, Shape
from amaranth.lib import stream, wiring
from amaranth.lib.fifo import SyncFIFO, SyncFIFOBuffered
from amaranth.lib.wiring import In, Out

__all__ = ["StreamQueue"]


class StreamQueue(wiring.Component):
    """A FIFO queue of ``depth`` entries of ``shape``.

    Parameters
    ----------
    shape : shape-castable
        Entry shape (a layout gives views on both ends).
    depth : int
        Entries.
    buffered : bool
        ``False``: :class:`SyncFIFO`, an entry written in one cycle can be read in the next
        (its read data comes from an asynchronous memory read). ``True``:
        :class:`SyncFIFOBuffered`, one more cycle, and the read data is a register, so a
        pipeline can start at it.

    Members
    -------
    w : ``In(stream.Signature(shape))``
        Entries in; ``ready`` depends only on the queue's state (never on ``w.valid``).
    r : ``Out(stream.Signature(shape))``
        Entries out, oldest first.
    level : ``Out(range(depth + 1))``
        Entries held.
    """

    def __init__(self, shape, depth, *, buffered=False):
        self.shape = shape
        self.depth = depth
        self.buffered = buffered
        super().__init__({
            "w": In(stream.Signature(shape)),
            "r": Out(stream.Signature(shape)),
            "level": Out(range(depth + 1)),
        })

    def elaborate(self, platform):
        m = Module()
        fifo_cls = SyncFIFOBuffered if self.buffered else SyncFIFO
        m.submodules.fifo = fifo = fifo_cls(width=Shape.cast(self.shape).width, depth=self.depth)
        m.d.comb += [
            fifo.w_data.eq(self.w.payload),
            fifo.w_en.eq(self.w.valid),
            self.w.ready.eq(fifo.w_rdy),
            self.r.payload.eq(fifo.r_data),
            self.r.valid.eq(fifo.r_rdy),
            fifo.r_en.eq(self.r.ready),
            self.level.eq(fifo.level),
        ]
        return m
