"""Amaranth-simulator test of the write queue: entries leave in order, and the same-line
probe finds exactly the queued writes to the probed line that are older than the probe's
number, including across the wrap of the write numbers; errored entries never match."""

import random

from amaranth.sim import Simulator

from rtl.engine.layouts import WriteKind
from rtl.engine.write_queue import WriteQueue, write_number_width


def test_number_width_covers_twice_the_depth():
    assert write_number_width(16) == 7
    assert all((1 << (write_number_width(d) - 1)) > d for d in range(1, 300))


def test_probe_and_order_across_number_wrap():
    depth = 4
    dut = WriteQueue(pa_width=48, tag_width=8, depth=depth)
    width = dut.number_width
    rng = random.Random(4)

    async def tb(ctx):
        await ctx.tick().until(~dut.scrubbing)        # the queue's storage is zeroed first
        queued = []                                   # (kind, addr, number)
        number = (1 << width) - 6                     # the numbers wrap through 0 below
        for _step in range(60):
            # Probe every address with every number the read head could carry.
            for addr in (0x40, 0x80, 0xC0):
                for probe in range(number - depth, number + 1):
                    probe %= 1 << width
                    ctx.set(dut.probe_addr, addr)
                    ctx.set(dut.probe_number, probe)
                    expect = any(k != WriteKind.ERROR and a == addr
                                 and 0 < (probe - n) % (1 << width) < (1 << (width - 1))
                                 for k, a, n in queued)
                    assert ctx.get(dut.probe_hit) == expect, (addr, probe, queued)
            push = len(queued) < depth and rng.random() < 0.6
            pop = queued and rng.random() < 0.5
            if push:
                kind = rng.choice(list(WriteKind))
                addr = rng.choice((0x40, 0x80, 0xC0))
                ctx.set(dut.w.valid, 1)
                ctx.set(dut.w.payload, {"kind": kind, "addr": addr, "tag": 0, "error": 0,
                                        "number": number})
            ctx.set(dut.r.ready, int(bool(pop)))
            if pop:
                head = ctx.get(dut.r.payload)
                assert (head.kind, head.addr, head.number) == queued[0]
            await ctx.tick()
            ctx.set(dut.w.valid, 0)
            if pop:
                queued.pop(0)
            if push:
                queued.append((kind, addr, number))
                if kind != WriteKind.ERROR:
                    number = (number + 1) % (1 << width)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
