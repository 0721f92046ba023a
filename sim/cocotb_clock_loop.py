"""The anchor of ``python -m sim.bench_verif``: a bare per-cycle cocotb loop (not collected by
pytest).

:func:`clock_loop` does nothing but ``await RisingEdge(clk)`` ``BENCH_CYCLES`` times on the
design (engine held out of reset, idle), so its cycles per second are the most a testbench
that wakes Python every cycle can reach on this design and simulator. :func:`simulator_floor`
(``BENCH_MODE=floor``) waits the same number of cycles with one ``Timer``: no Python at all
between its two wake-ups, so its cycles per second are the simulator's own speed on the
(idle) design, the ceiling of any testbench. Each loop's own wall time goes to ``stats.json``.
"""

import json
import os
import time

import cocotb
from cocotb.triggers import RisingEdge, Timer

from sim.cocotb_utils import CLOCK_PERIOD_NS, start_clock

CYCLES = int(os.environ.get("BENCH_CYCLES", "100000"))
MODE = os.environ.get("BENCH_MODE", "loop")


def _stats(wall):
    with open("stats.json", "w") as f:
        json.dump({"cycles": CYCLES, "mode": MODE, "run_wall_s": wall}, f)


@cocotb.test(skip=MODE != "loop")
async def clock_loop(dut):
    """``BENCH_CYCLES`` rising edges, one Python wake-up each."""
    start_clock(dut)
    dut.rst.value = 0
    edge = RisingEdge(dut.clk)
    await edge
    wall0 = time.perf_counter()
    for _ in range(CYCLES):
        await edge
    _stats(time.perf_counter() - wall0)


@cocotb.test(skip=MODE != "floor")
async def simulator_floor(dut):
    """``BENCH_CYCLES`` cycles in one ``Timer``: the simulator alone."""
    start_clock(dut)
    dut.rst.value = 0
    await RisingEdge(dut.clk)
    wall0 = time.perf_counter()
    await Timer(CYCLES * CLOCK_PERIOD_NS, "ns")
    _stats(time.perf_counter() - wall0)
