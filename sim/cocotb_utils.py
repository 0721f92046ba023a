"""Small cocotb helpers shared by every testbench: clock, reset, transaction-level waits."""

from cocotb.clock import Clock
from cocotb.triggers import ClockCycles, RisingEdge

__all__ = ["CLOCK_PERIOD_NS", "start_clock", "reset", "write_stats"]

CLOCK_PERIOD_NS = 10


def start_clock(dut, period_ns=CLOCK_PERIOD_NS):
    """Start ``dut.clk``; the GPI clock costs no Python wake-up per edge (toolchain notes G12)."""
    clock = Clock(dut.clk, period_ns, unit="ns", impl="gpi")
    clock.start()
    return clock


async def reset(dut, cycles=2):
    """Hold the synchronous reset for *cycles* rising edges, then release it."""
    dut.rst.value = 1
    await ClockCycles(dut.clk, cycles)
    dut.rst.value = 0
    await RisingEdge(dut.clk)





def write_stats(checked, **extra):
    """Record how many transactions this test checked (read by the regression report).

    The simulator runs with its working directory set to the run's own directory, so the
    file lands next to ``results.xml``.
    """
    import json

    with open("stats.json", "w") as f:
        json.dump({"checked": int(checked), **extra}, f)
