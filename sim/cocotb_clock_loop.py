"""The anchor of ``python -m sim.bench_verif``: a bare per-cycle cocotb loop (not collected by
pytest).

It does nothing but ``await RisingEdge(clk)`` ``BENCH_CYCLES`` times on the design (engine
held out of reset, idle), so its cycles per second are the most a testbench that wakes Python
every cycle can reach on this design and simulator. The loop's own wall time goes to
``stats.json``.
"""

import json
import os
import time

import cocotb
from cocotb.triggers import RisingEdge

from sim.cocotb_utils import start_clock

CYCLES = int(os.environ.get("BENCH_CYCLES", "100000"))


@cocotb.test()
async def clock_loop(dut):
    """``BENCH_CYCLES`` rising edges, one Python wake-up each."""
    start_clock(dut)
    dut.rst.value = 0
    edge = RisingEdge(dut.clk)
    await edge
    wall0 = time.perf_counter()
    for _ in range(CYCLES):
        await edge
    with open("stats.json", "w") as f:
        json.dump({"cycles": CYCLES, "run_wall_s": time.perf_counter() - wall0}, f)
