"""Zeroizing a memory after reset.

Registers return to their reset value with the reset; memories (the key slots, the read
contexts, the queues' storage: LUT RAM on an FPGA) have no reset. Each memory that can hold key
material, a tweak or data therefore runs a scrub after every reset: one word per cycle is
written with zeros, and the memory's owner refuses work until the scrub is over (its
``scrubbing`` output; the engine's ports stay closed meanwhile, docs/security.md G2).
"""

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import Out

__all__ = ["Scrubber"]


class Scrubber(wiring.Component):
    """Walks the addresses of a ``depth``-word memory once after each reset.

    Parameters
    ----------
    depth : int
        Words of the memory.

    Members
    -------
    active : ``Out(1)``
        High from reset for ``depth`` cycles: write zeros at ``addr`` (and accept no work).
    addr : ``Out(range(depth))``
        The word to zero this cycle: 0, 1, ..., ``depth - 1``.
    """

    def __init__(self, depth):
        if not isinstance(depth, int) or depth < 1:
            self._MustUse__silence = True  # never elaborated
            raise ValueError(f"depth must be a positive int, not {depth!r}")
        self.depth = depth
        super().__init__({"active": Out(1), "addr": Out(range(depth))})

    def elaborate(self, platform):
        m = Module()
        active = Signal(init=1)
        m.d.comb += self.active.eq(active)
        with m.If(active):
            m.d.sync += self.addr.eq(self.addr + 1)
            with m.If(self.addr == self.depth - 1):
                m.d.sync += [active.eq(0), self.addr.eq(0)]
        return m
