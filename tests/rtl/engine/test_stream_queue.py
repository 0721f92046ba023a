"""Amaranth-simulator test of StreamQueue, plain and buffered: entries come out in order with
their layout intact under random stalls on both sides, ``level`` counts them, and ``w.ready``
falls exactly when the queue is full."""

import random

import pytest
from amaranth.lib import data
from amaranth.sim import Simulator

from rtl.engine.stream_queue import StreamQueue

LAYOUT = data.StructLayout({"a": 8, "b": 4})


@pytest.mark.parametrize("buffered", [False, True])
def test_order_level_and_full(buffered):
    dut = StreamQueue(LAYOUT, 3, buffered=buffered)
    rng = random.Random(int(buffered))
    sent = [{"a": rng.randrange(256), "b": rng.randrange(16)} for _ in range(40)]
    got = []

    async def writer(ctx):
        for entry in sent:
            while rng.random() < 0.3:
                await ctx.tick()
            ctx.set(dut.w.valid, 1)
            ctx.set(dut.w.payload, entry)
            await ctx.tick().until(dut.w.ready)
            ctx.set(dut.w.valid, 0)

    async def reader(ctx):
        while len(got) < len(sent):
            ctx.set(dut.r.ready, int(rng.random() < 0.4))
            _, _, valid, ready, payload, level, w_ready = await ctx.tick().sample(
                dut.r.valid, dut.r.ready, dut.r.payload, dut.level, dut.w.ready)
            assert w_ready == (level < 3)
            if valid and ready:
                got.append({"a": payload.a, "b": payload.b})

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(writer, background=True)
    sim.add_testbench(reader)
    sim.run()
    assert got == sent
