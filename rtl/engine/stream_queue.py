"""A first-in first-out queue with ``lib.stream`` ports, a typed payload and a scrub.

The engine's queues hold structured entries (order-queue entries, tweaks, plaintext and
ciphertext lines); both ends are streams whose payload is a :class:`~amaranth.lib.data.View`
of the entry layout. The storage is a memory (LUT RAM on an FPGA), which no reset clears, so
the queue zeroes it after every reset (:class:`~rtl.engine.scrub.Scrubber`) and takes no
entry meanwhile: a plaintext line or a tweak never outlives a reset.
"""

from amaranth import Module, Mux, ResetSignal, Shape, Signal
from amaranth.lib import stream, wiring
from amaranth.lib.memory import Memory
from amaranth.lib.wiring import In, Out

from .scrub import Scrubber

__all__ = ["StreamQueue"]


class StreamQueue(wiring.Component):
    """A FIFO queue of ``depth`` entries of ``shape``.

    An entry written in one cycle can be read in the next (the read data comes from an
    asynchronous memory read), as with Amaranth's :class:`~amaranth.lib.fifo.SyncFIFO`.

    Parameters
    ----------
    shape : shape-castable
        Entry shape (a layout gives views on both ends).
    depth : int
        Entries.

    Members
    -------
    w : ``In(stream.Signature(shape))``
        Entries in; ``ready`` depends only on the queue's state (never on ``w.valid``). Low
        during reset and while the storage is being scrubbed.
    r : ``Out(stream.Signature(shape))``
        Entries out, oldest first (``valid`` low during reset).
    level : ``Out(range(depth + 1))``
        Entries held.
    scrubbing : ``Out(1)``
        The storage is being zeroed after a reset (``depth`` cycles).
    """

    def __init__(self, shape, depth):
        if not isinstance(depth, int) or depth < 1:
            self._MustUse__silence = True  # never elaborated
            raise ValueError(f"depth must be a positive int, not {depth!r}")
        self.shape = shape
        self.depth = depth
        super().__init__({
            "w": In(stream.Signature(shape)),
            "r": Out(stream.Signature(shape)),
            "level": Out(range(depth + 1)),
            "scrubbing": Out(1),
        })

    def elaborate(self, platform):
        m = Module()
        depth = self.depth
        width = Shape.cast(self.shape).width
        m.submodules.storage = storage = Memory(shape=width, depth=depth, init=[])
        m.submodules.scrubber = scrubber = Scrubber(depth)
        wport = storage.write_port()
        rport = storage.read_port(domain="comb")
        w_ptr = Signal(range(depth))
        r_ptr = Signal(range(depth))

        push = self.w.valid & self.w.ready
        pop = self.r.valid & self.r.ready
        # No handshake while the reset is asserted: the pointers are being cleared in that
        # cycle, so an entry taken or given then would be lost or duplicated.
        in_reset = ResetSignal()
        m.d.comb += [
            self.scrubbing.eq(scrubber.active),
            self.w.ready.eq((self.level != depth) & ~scrubber.active & ~in_reset),
            self.r.valid.eq((self.level != 0) & ~in_reset),
            rport.addr.eq(r_ptr),
            self.r.payload.eq(rport.data),
            wport.addr.eq(Mux(scrubber.active, scrubber.addr, w_ptr)),
            wport.data.eq(Mux(scrubber.active, 0, self.w.payload)),
            wport.en.eq(scrubber.active | push),
        ]
        with m.If(push):
            m.d.sync += w_ptr.eq(Mux(w_ptr == depth - 1, 0, w_ptr + 1))
        with m.If(pop):
            m.d.sync += r_ptr.eq(Mux(r_ptr == depth - 1, 0, r_ptr + 1))
        m.d.sync += self.level.eq(self.level + push - pop)
        return m
