"""TweakUnit and alpha multiply against a Python XTS tweak computation (AES-ECB from
``cryptography``)."""

import random

from amaranth import Module, Signal
from amaranth.sim import Simulator

from rtl.engine.tweak import TweakUnit, alpha_power

from ._util import alpha, run_sim, xts_tweak


def test_alpha_power_matches_python():
    m = Module()
    t0, j, out = Signal(128), Signal(2), Signal(128)
    m.d.comb += out.eq(alpha_power(t0, j))
    rng = random.Random(2)
    vals = [1 << 127, (1 << 128) - 1, 1, 0x87] + [rng.randrange(1 << 128) for _ in range(20)]

    async def tb(ctx):
        for v in vals:
            exp = v
            for n in range(4):
                ctx.set(t0, v)
                ctx.set(j, n)
                assert ctx.get(out) == exp, (hex(v), n)
                exp = alpha(exp)
    sim = Simulator(m)
    sim.add_testbench(tb)
    sim.run()


def test_tweak_unit_back_to_back():
    dut = TweakUnit(index_width=48, tag_width=8)
    rng = random.Random(3)
    jobs = [(rng.randrange(1 << 42) << 6, rng.randrange(1 << 128), n) for n in range(12)]
    jobs.append((0, 0, 99))            # IEEE 1619 vector 1 style: K2 = 0, i = 0

    async def tb(ctx):
        got = []
        for cycle in range(len(jobs) + dut.latency + 2):
            if cycle < len(jobs):
                i, k2, tag = jobs[cycle]
                ctx.set(dut.i.valid, 1)
                ctx.set(dut.i.payload, {"index": i, "key": k2, "tag": tag})
            else:
                ctx.set(dut.i.valid, 0)
            if ctx.get(dut.o.valid):
                got.append((ctx.get(dut.o.payload.t0), ctx.get(dut.o.payload.tag)))
            await ctx.tick()
        assert got == [(xts_tweak(k2, i), tag) for i, k2, tag in jobs]
    run_sim(dut, tb)


def test_tweak_unit_folded_honours_ready():
    """fold=2: requests offered every cycle are taken at most one per two cycles (sustained),
    each T_0 arrives exactly ``latency`` cycles after its transfer, in order."""
    dut = TweakUnit(index_width=48, tag_width=8, sbox="ebr", fold=2)
    assert (dut.latency, dut.interval) == (20, 2)
    rng = random.Random(5)
    jobs = [(rng.randrange(1 << 42) << 6, rng.randrange(1 << 128), n) for n in range(16)]

    async def tb(ctx):
        got, entered, pending = [], {}, list(jobs)
        for cycle in range(3 * len(jobs) + dut.latency + 4):
            if pending:
                i, k2, tag = pending[0]
                ctx.set(dut.i.payload, {"index": i, "key": k2, "tag": tag})
            ctx.set(dut.i.valid, bool(pending))
            took = bool(pending) and ctx.get(dut.i.ready)
            if ctx.get(dut.o.valid):
                tag = ctx.get(dut.o.payload.tag)
                got.append((ctx.get(dut.o.payload.t0), tag, cycle - entered[tag]))
            await ctx.tick()
            if took:
                entered[pending.pop(0)[2]] = cycle
        assert got == [(xts_tweak(k2, i), tag, dut.latency) for i, k2, tag in jobs]
    run_sim(dut, tb)
