"""A test-only stand-in for a folded tweak unit: it takes one request every ``period`` cycles.

It wraps the real :class:`~rtl.engine.tweak.TweakUnit` and holds ``i.ready`` low for
``period - 1`` cycles after each request it takes, as a unit that shares one AES round
between several cycles would. Used to check that the engine respects the tweak unit's
``ready`` without losing or reordering anything.
"""

from amaranth import Module, Signal
from amaranth.lib import wiring

from rtl.engine.tweak import TweakUnit

__all__ = ["SlowTweakUnit"]


class SlowTweakUnit(wiring.Component):
    """:class:`TweakUnit` that accepts a request only every ``period`` cycles.

    Parameters
    ----------
    period : int
        Cycles between two requests taken.
    **kwargs :
        Passed to :class:`TweakUnit`.

    Members
    -------
    i, o :
        As :class:`TweakUnit`; ``i.ready`` is low for ``period - 1`` cycles after a transfer.
    """

    def __init__(self, *, period=2, **kwargs):
        self.period = period
        self._unit = TweakUnit(**kwargs)
        super().__init__(self._unit.signature)

    @property
    def latency(self):
        return self._unit.latency

    def elaborate(self, platform):
        m = Module()
        m.submodules.unit = unit = self._unit
        wait = Signal(range(self.period))
        ready = wait == 0
        taken = self.i.valid & ready
        with m.If(taken):
            m.d.sync += wait.eq(self.period - 1)
        with m.Elif(~ready):
            m.d.sync += wait.eq(wait - 1)
        m.d.comb += [
            self.i.ready.eq(ready),
            unit.i.valid.eq(taken),
            unit.i.payload.eq(self.i.payload),
            self.o.valid.eq(unit.o.valid),
            self.o.payload.eq(unit.o.payload),
        ]
        return m
