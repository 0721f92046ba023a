"""A deliberately tiny design used to test the simulation runner itself."""

from amaranth import Module, Signal
from amaranth.lib import wiring
from amaranth.lib.wiring import In, Out

__all__ = ["Accumulator"]


class Accumulator(wiring.Component):
    """Adds ``i_value`` into a register every cycle ``i_en`` is high; ``o_sum`` shows it.

    ``o_is_zero`` depends only on a register, the case Icarus gets wrong after reset when
    Yosys emits plain ``always @*`` (toolchain notes G11).
    """

    def __init__(self, width=8):
        super().__init__({"i_en": In(1), "i_value": In(width), "o_sum": Out(width),
                          "o_is_zero": Out(1)})

    def elaborate(self, platform):
        m = Module()
        acc = Signal.like(self.o_sum)
        with m.If(self.i_en):
            m.d.sync += acc.eq(acc + self.i_value)
        m.d.comb += self.o_sum.eq(acc)
        # A Switch (not a plain expression) so that Yosys writes this output from an
        # ``always @*`` process: the construct that the Icarus time-0 trap affects.
        with m.Switch(acc):
            with m.Case(0):
                m.d.comb += self.o_is_zero.eq(1)
            with m.Case(1, 2, 3):
                m.d.comb += self.o_is_zero.eq(0)
            with m.Default():
                m.d.comb += self.o_is_zero.eq(acc[-1] & acc[0] & ~acc[0])
        return m
