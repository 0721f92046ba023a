"""cocotb measurement of one AES pipeline's latency and sustained throughput (not a test suite).

Run by ``python -m sim.bench_aes``. Writes ``{"latency_cycles", "blocks", "window_cycles",
"blocks_per_cycle", "end_to_end_cycles"}`` as JSON to ``$AES_BENCH_OUT``. Knobs:
``AES_DIRECTION`` (``encrypt``/``decrypt``), ``AES_TAG_WIDTH``, ``AES_BENCH_BLOCKS`` (default 1000).

Latency is counted in clock cycles from the cycle in which ``i.valid`` is high (the one ending
with the rising edge that samples it) to the cycle in which ``o.valid`` is high, so one
register stage measures 1. Throughput: ``AES_BENCH_BLOCKS``
blocks are offered back to back, and the outputs are counted over the window from the first
output to the last.
"""

import json
import os
import random

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from sim.cocotb_utils import reset, start_clock
from verif.aes.cocotb_aes import make_items

__all__ = []


@cocotb.test()
async def measure(dut):
    """Measure latency (one isolated block) and throughput (back-to-back blocks)."""
    direction = os.environ.get("AES_DIRECTION", "encrypt")
    tag_width = int(os.environ.get("AES_TAG_WIDTH", "8"))
    count = int(os.environ.get("AES_BENCH_BLOCKS", "1000"))
    rng = random.Random(cocotb.RANDOM_SEED)
    items = make_items(direction, [(rng.getrandbits(128), rng.getrandbits(128))
                                   for _ in range(count + 1)], tag_width)
    start_clock(dut)
    dut.i__valid.value = 0
    dut.i__payload.value = 0
    await reset(dut)
    edge, readonly = RisingEdge(dut.clk), ReadOnly()

    def payload(item):
        block, key, tag, _ = item
        return block | (key << 128) | (tag << 256)

    # Latency: one block alone, valid in cycle -1, i.e. sampled by the first edge below; cycle
    # k is the one that follows edge k.
    dut.i__payload.value = payload(items[0])
    dut.i__valid.value = 1
    latency = None
    for cycle in range(200):
        await edge
        dut.i__valid.value = 0
        await readonly
        if dut.o__valid.value:
            latency = cycle + 1
            got = int(dut.o__payload.value) & ((1 << 128) - 1)
            assert got == items[0][3], "wrong result in the latency measurement"
            break
    assert latency is not None, "no output within 200 cycles"
    for _ in range(latency + 2):        # drain
        await edge

    # Throughput: count blocks back to back; record the cycles with o.valid.
    out_cycles = []
    fed = 0
    cycle = 0
    while len(out_cycles) < count and cycle < count + 10 * latency + 100:
        await edge
        if fed < count:
            dut.i__payload.value = payload(items[1 + fed])
            dut.i__valid.value = 1
            fed += 1
        else:
            dut.i__valid.value = 0
        await readonly
        if dut.o__valid.value:
            out_cycles.append(cycle)
        cycle += 1
    assert len(out_cycles) == count, f"{len(out_cycles)} of {count} blocks came out"
    window = out_cycles[-1] - out_cycles[0] + 1
    result = {
        "latency_cycles": latency,
        "blocks": count,
        "window_cycles": window,
        "blocks_per_cycle": count / window,
        "end_to_end_cycles": out_cycles[-1] + 1,
    }
    dut._log.info("%s: %s", direction, result)
    with open(os.environ["AES_BENCH_OUT"], "w") as f:
        json.dump(result, f)
