"""Amaranth-simulator test of the DRAM issue: order-queue entries of every kind become DRAM
requests (reads, plaintext writes with their own data, encrypted writes with the next
ciphertext line), completions and error responses, in order, under DRAM backpressure."""

import random

from amaranth.sim import Simulator

from rtl.engine.dram_issue import DramIssue
from rtl.engine.layouts import OrderKind, RspError


def test_dram_issue_kinds_order_and_backpressure():
    dut = DramIssue(pa_width=48, tag_width=8, dram_tag_width=5)
    rng = random.Random(3)
    entries, ciphertexts = [], []
    for i in range(40):
        kind = rng.choice(list(OrderKind))
        entries.append({"kind": kind, "addr": 64 * i, "dram_tag": i % 32 if kind == OrderKind.READ
                        else 0, "tag": i, "error": RspError.BAD_KEYID if kind == OrderKind.ERROR
                        else RspError.OK,
                        "data": rng.randrange(1 << 512) if kind == OrderKind.WRITE_PLAIN else 0})
        if kind == OrderKind.WRITE_ENCRYPTED:
            ciphertexts.append(rng.randrange(1 << 512))
    dram, issued, completions = [], [], []

    async def order_tb(ctx):
        for e in entries:
            ctx.set(dut.order.valid, 1)
            ctx.set(dut.order.payload, e)
            await ctx.tick().until(dut.order.ready)
        ctx.set(dut.order.valid, 0)

    async def ciphertext_tb(ctx):
        for line in ciphertexts:
            while rng.random() < 0.5:                      # ciphertext arrives late
                await ctx.tick()
            ctx.set(dut.ciphertext.valid, 1)
            ctx.set(dut.ciphertext.payload, line)
            await ctx.tick().until(dut.ciphertext.ready)
            ctx.set(dut.ciphertext.valid, 0)

    async def sinks(ctx):
        for _ in range(400):
            ctx.set(dut.dram_req.ready, int(rng.random() < 0.6))
            ctx.set(dut.completion.ready, int(rng.random() < 0.6))
            _, _, q_valid, q_ready, q, i_valid, i_tag, c_valid, c_ready, c = \
                await ctx.tick().sample(dut.dram_req.valid, dut.dram_req.ready,
                                        dut.dram_req.payload, dut.read_issued.valid,
                                        dut.read_issued.payload, dut.completion.valid,
                                        dut.completion.ready, dut.completion.payload)
            if q_valid and q_ready:
                dram.append((q.addr, q.write, q.tag if not q.write else None,
                             q.data if q.write else None))
            if i_valid:
                issued.append(i_tag)
            if c_valid and c_ready:
                completions.append((c.tag, c.error))

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(order_tb, background=True)
    sim.add_testbench(ciphertext_tb, background=True)
    sim.add_testbench(sinks)
    sim.run()

    cts = iter(ciphertexts)
    expect_dram, expect_cpl = [], []
    for e in entries:
        if e["kind"] == OrderKind.READ:
            expect_dram.append((e["addr"], 0, e["dram_tag"], None))
        elif e["kind"] == OrderKind.ERROR:
            expect_cpl.append((e["tag"], RspError.BAD_KEYID))
        else:
            data = e["data"] if e["kind"] == OrderKind.WRITE_PLAIN else next(cts)
            expect_dram.append((e["addr"], 1, None, data))
            expect_cpl.append((e["tag"], RspError.OK))
    assert dram == expect_dram
    assert issued == [d[2] for d in expect_dram if d[2] is not None]
    assert completions == expect_cpl
