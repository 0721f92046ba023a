"""Amaranth-simulator test of the write (encrypt) path alone: plaintext lines and their
tweaks in, XTS ciphertext lines out in order (checked against ``cryptography``), with the
ciphertext stream stalled at random, for lanes 1 and 4; and full rate when never stalled."""

import random

import pytest
from amaranth.sim import Simulator

from rtl.engine.write_path import EncryptPath

from ._util import xts_line_encrypt, xts_tweak


def _run(lanes, stall, n=12, seed=0):
    dut = EncryptPath(lanes=lanes, sbox="table", write_depth=8)
    rng = random.Random(seed)
    lines = [(rng.randrange(1 << 128), rng.randrange(1 << 128), 64 * rng.randrange(1 << 20),
              rng.randrange(1 << 512)) for _ in range(n)]
    out = []

    async def plaintext_tb(ctx):
        await ctx.tick().until(~dut.scrubbing)       # the queues are zeroed after reset first
        for _k1, _k2, _i, line in lines:
            ctx.set(dut.plaintext.valid, 1)
            ctx.set(dut.plaintext.payload, line)
            await ctx.tick().until(dut.plaintext.ready)
            ctx.set(dut.plaintext.valid, 0)

    async def tweak_tb(ctx):
        # The tweak unit delivers each write's tweak some cycles after its plaintext.
        await ctx.tick().until(~dut.scrubbing)
        await ctx.tick().repeat(3)
        for k1, k2, i, _line in lines:
            ctx.set(dut.tweak.valid, 1)
            ctx.set(dut.tweak.payload, {"t0": xts_tweak(k2, i), "k1": k1})
            await ctx.tick()
            ctx.set(dut.tweak.valid, 0)

    async def sink(ctx):
        cycle = 0
        while len(out) < n and cycle < 2000:
            ctx.set(dut.ciphertext.ready, int(rng.random() >= stall))
            _, _, valid, ready, payload = await ctx.tick().sample(
                dut.ciphertext.valid, dut.ciphertext.ready, dut.ciphertext.payload)
            if valid and ready:
                out.append((cycle, payload))
            cycle += 1

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(plaintext_tb, background=True)
    sim.add_testbench(tweak_tb, background=True)
    sim.add_testbench(sink)
    sim.run()
    assert [c for _cycle, c in out] == [xts_line_encrypt(k1, k2, i, line)
                                        for k1, k2, i, line in lines]
    return dut, [cycle for cycle, _c in out]


@pytest.mark.parametrize("lanes", [1, 4])
def test_ciphertext_in_order_under_backpressure(lanes):
    _run(lanes, stall=0.6, n=6, seed=lanes)


@pytest.mark.parametrize("lanes", [1, 4])
def test_a_line_every_beat_sequence(lanes):
    """Never stalled: once the first line is out, a line leaves every 4 / lanes cycles (the
    write queues hold 8 lines, so the plaintext side never throttles here)."""
    _dut, cycles = _run(lanes, stall=0.0, n=8, seed=10 + lanes)
    assert {b - a for a, b in zip(cycles, cycles[1:], strict=False)} == {4 // lanes}
