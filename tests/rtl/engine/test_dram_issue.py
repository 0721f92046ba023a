"""Amaranth-simulator test of the hazard-aware DRAM issue, with the write queue and a read
queue in front of it: random reads, plaintext writes, encrypted writes (their ciphertext
arriving late, and a plaintext write's line, from its own queue, sometimes late too) and errored
requests over three lines, under DRAM and completion backpressure.
Requests to one line reach DRAM in acceptance order, reads pass waiting writes to other
lines, every request is sent once (errors never), and completions come in write order."""

import random

from amaranth import Module
from amaranth.sim import Simulator

from rtl.engine.dram_issue import DramIssue
from rtl.engine.layouts import RspError, WriteKind, read_entry_layout
from rtl.engine.stream_queue import StreamQueue
from rtl.engine.write_queue import WriteQueue


def _harness(depth=4):
    m = Module()
    m.submodules.write_queue = write_queue = WriteQueue(pa_width=48, tag_width=8, depth=depth)
    width = write_queue.number_width
    m.submodules.read_queue = read_queue = StreamQueue(read_entry_layout(48, 8, width), depth)
    m.submodules.issue = issue = DramIssue(pa_width=48, tag_width=8, dram_tag_width=8,
                                           number_width=width)
    m.d.comb += [
        issue.writes.valid.eq(write_queue.r.valid), issue.writes.payload.eq(write_queue.r.payload),
        write_queue.r.ready.eq(issue.writes.ready),
        issue.reads.valid.eq(read_queue.r.valid), issue.reads.payload.eq(read_queue.r.payload),
        read_queue.r.ready.eq(issue.reads.ready),
        write_queue.probe_addr.eq(issue.probe_addr),
        write_queue.probe_number.eq(issue.probe_number),
        issue.probe_hit.eq(write_queue.probe_hit),
    ]
    return m, write_queue, read_queue, issue


def test_same_line_order_and_reads_passing_writes():
    m, write_queue, read_queue, issue = _harness()
    width = write_queue.number_width
    rng = random.Random(8)
    requests = []                      # ("read" | WriteKind, addr, tag)
    for i in range(120):
        kind = rng.choice(["read", "read", WriteKind.WRITE_PLAIN, WriteKind.WRITE_ENCRYPTED,
                           WriteKind.ERROR])
        requests.append((kind, rng.choice((0x40, 0x80, 0xC0)), i))
    ciphertexts = [1000 + i for i, (k, _a, _t) in enumerate(requests)
                   if k == WriteKind.WRITE_ENCRYPTED]
    dram, completions = [], []

    async def accept_tb(ctx):
        number = 0
        for kind, addr, tag in requests:
            if kind == "read":
                port = read_queue.w
                ctx.set(port.payload, {"addr": addr, "dram_tag": tag, "number": number})
            else:
                port = write_queue.w
                ctx.set(port.payload, {"kind": kind, "addr": addr, "tag": tag,
                                       "error": RspError.NO_KEY if kind == WriteKind.ERROR
                                       else RspError.OK, "number": number})
                if kind != WriteKind.ERROR:
                    number = (number + 1) % (1 << width)
            ctx.set(port.valid, 1)
            await ctx.tick().until(port.ready)
            ctx.set(port.valid, 0)

    async def ciphertext_tb(ctx):
        for line in ciphertexts:
            await ctx.tick().repeat(rng.randrange(1, 12))    # the encryption takes a while
            ctx.set(issue.ciphertext.valid, 1)
            ctx.set(issue.ciphertext.payload, line)
            await ctx.tick().until(issue.ciphertext.ready)
            ctx.set(issue.ciphertext.valid, 0)

    plain_lines = [t for k, _a, t in requests if k == WriteKind.WRITE_PLAIN]

    async def plain_tb(ctx):
        for line in plain_lines:
            await ctx.tick().repeat(rng.randrange(1, 4))
            ctx.set(issue.plain_data.valid, 1)
            ctx.set(issue.plain_data.payload, line)
            await ctx.tick().until(issue.plain_data.ready)
            ctx.set(issue.plain_data.valid, 0)

    async def sinks(ctx):
        for _ in range(2500):
            ctx.set(issue.dram_req.ready, int(rng.random() < 0.7))
            ctx.set(issue.completion.ready, int(rng.random() < 0.7))
            _, _, q_valid, q_ready, q, c_valid, c_ready, c = await ctx.tick().sample(
                issue.dram_req.valid, issue.dram_req.ready, issue.dram_req.payload,
                issue.completion.valid, issue.completion.ready, issue.completion.payload)
            if q_valid and q_ready:
                dram.append((q.write, q.addr, q.tag, q.data))
            if c_valid and c_ready:
                completions.append((c.tag, c.error))

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(accept_tb, background=True)
    sim.add_testbench(ciphertext_tb, background=True)
    sim.add_testbench(plain_tb, background=True)
    sim.add_testbench(sinks)
    sim.run()

    # What each request sends to DRAM (an encrypted write: the next ciphertext line).
    cts = iter(ciphertexts)
    expect = {}
    for kind, addr, tag in requests:
        if kind == "read":
            expect[tag] = (0, addr, tag, 0)
        elif kind == WriteKind.WRITE_PLAIN:
            expect[tag] = (1, addr, 0, tag)
        elif kind == WriteKind.WRITE_ENCRYPTED:
            expect[tag] = (1, addr, 0, next(cts))
    assert sorted(dram) == sorted(expect.values())           # each sent once, errors never
    sent_order = {v: n for n, v in enumerate(dram)}
    for line in (0x40, 0x80, 0xC0):
        mine = [sent_order[expect[t]] for k, a, t in requests if a == line and t in expect]
        assert mine == sorted(mine), f"line {line:#x} out of acceptance order"
    # Some read went to DRAM before an older write to another line.
    position = {t: sent_order[v] for t, v in expect.items()}
    assert any(k == "read" and any(position[t2] > position[t] for k2, _a2, t2 in requests[:t]
                                   if k2 in (WriteKind.WRITE_PLAIN, WriteKind.WRITE_ENCRYPTED))
               for k, _a, t in requests)
    assert completions == [(t, RspError.NO_KEY if k == WriteKind.ERROR else RspError.OK)
                           for k, _a, t in requests if k != "read"]
