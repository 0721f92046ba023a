"""cocotb tests for the runner's own tests (not collected by pytest)."""

import json
import os

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from sim.cocotb_utils import reset, start_clock


@cocotb.test()
async def accumulates(dut):
    """Sums values and shows o_is_zero correctly right after reset (no X, G11)."""
    start_clock(dut)
    dut.i_en.value = 0
    dut.i_value.value = 0
    await reset(dut)
    await ReadOnly()
    assert dut.o_is_zero.value == 1, "o_is_zero must be 1 after reset"
    await RisingEdge(dut.clk)
    total = 0
    for v in (3, 5, 7):
        dut.i_en.value = 1
        dut.i_value.value = v
        await RisingEdge(dut.clk)
        total += v
    dut.i_en.value = 0
    await ReadOnly()
    assert int(dut.o_sum.value) == total
    assert dut.o_is_zero.value == 0


@cocotb.test(skip=os.environ.get("TINY_FAIL") != "1")
async def deliberately_fails(dut):
    """Fails on purpose when TINY_FAIL=1: proves the runner reports failures."""
    start_clock(dut)
    await RisingEdge(dut.clk)
    raise AssertionError("deliberate failure")


@cocotb.test(skip=os.environ.get("TINY_FCOV") != "1")
async def exports_functional_coverage(dut):
    """Writes an ``fcov.json`` whose bins depend on the seed (for the closure-loop tests):
    ``tiny.seed.parity`` is closed by one even and one odd seed."""
    start_clock(dut)
    await RisingEdge(dut.clk)
    seed = int(os.environ["COCOTB_RANDOM_SEED"])  # the run seed (RANDOM_SEED is per test)
    with open("fcov.json", "w") as f:
        json.dump({"tiny.seed.parity": {"even": int(seed % 2 == 0), "odd": int(seed % 2 == 1)}},
                  f)
