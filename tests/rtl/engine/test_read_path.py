"""Amaranth-simulator test of the read (decrypt) path with the read-tag table: encrypted and
plaintext responses in random order and with random gaps, some arriving before their context
is written, both output streams stalled at random; every line comes out once, decrypted right
(checked against ``cryptography``), and a stray tag is dropped and flagged."""

import random

import pytest
from amaranth import Module
from amaranth.sim import Simulator

from rtl.aes.reference import last_round_key
from rtl.engine.read_path import DecryptPath
from rtl.engine.read_tags import ReadTagTable

from ._util import xts_line_encrypt, xts_tweak


def _harness(lanes):
    m = Module()
    m.submodules.tags = tags = ReadTagTable(tag_width=8, dram_tag_width=4)
    m.submodules.path = path = DecryptPath(tag_width=8, dram_tag_width=4, lanes=lanes,
                                           sbox="table")
    m.d.comb += [
        tags.rsp_tag.eq(path.rsp_tag),
        path.rsp_known.eq(tags.rsp_known),
        path.rsp_context_ready.eq(tags.rsp_context_ready),
        path.rsp_encrypted.eq(tags.rsp_encrypted),
        path.rsp_up_tag.eq(tags.rsp_up_tag),
        tags.release.eq(path.release),
        tags.context_tag.eq(path.context_tag),
        path.context_tag_ready.eq(tags.context_tag_ready),
        tags.context_read.eq(path.context_read),
        path.context_data.eq(tags.context_data),
    ]
    return m, tags, path


@pytest.mark.parametrize("lanes", [1, 4])
def test_lines_out_once_and_right(lanes):
    m, tags, path = _harness(lanes)
    rng = random.Random(lanes)
    reads = []               # (dram_tag, up_tag, encrypted, k1, k2, addr, plaintext)
    got = {}

    async def tb(ctx):
        await ctx.tick().until(~(tags.scrubbing | path.scrubbing))   # memories zeroed first
        # Allocate 12 tags (every third read plaintext) and issue them.
        for up_tag in range(12):
            enc = up_tag % 3 != 0
            dram_tag = ctx.get(tags.alloc_tag)
            ctx.set(tags.alloc.valid, 1)
            ctx.set(tags.alloc.payload, {"encrypted": enc, "tag": up_tag})
            ctx.set(tags.issued.valid, 1)
            ctx.set(tags.issued.payload, dram_tag)
            await ctx.tick()
            reads.append((dram_tag, up_tag, enc, rng.randrange(1 << 128), rng.randrange(1 << 128),
                          64 * rng.randrange(1 << 30), rng.randrange(1 << 512)))
        ctx.set(tags.alloc.valid, 0)
        ctx.set(tags.issued.valid, 0)
        await ctx.tick().repeat(6)
        order = reads[:]
        rng.shuffle(order)
        for n, r in enumerate(order):
            if n == 5:                                # a tag with no read out
                ctx.set(path.dram_rsp.valid, 1)
                ctx.set(path.dram_rsp.payload, {"tag": 15, "data": 0})
                await ctx.tick().until(path.dram_rsp.ready)
            stored = xts_line_encrypt(r[3], r[4], r[5], r[6]) if r[2] else r[6]
            ctx.set(path.dram_rsp.valid, 1)
            ctx.set(path.dram_rsp.payload, {"tag": r[0], "data": stored})
            await ctx.tick().until(path.dram_rsp.ready)
            ctx.set(path.dram_rsp.valid, 0)
            for _ in range(rng.randrange(3)):
                await ctx.tick()
        await ctx.tick().repeat(60)
        assert ctx.get(path.err_dram_rsp_tag)

    async def write_contexts(ctx):
        # Contexts of the first four encrypted reads at once, of the others only later, while
        # responses are arriving (some of them before their context).
        while len(reads) < 12:
            await ctx.tick()
        encrypted = [r for r in reads if r[2]]
        for n, r in enumerate(encrypted):
            if n == 4:
                await ctx.tick().repeat(25)
            ctx.set(tags.context.valid, 1)
            ctx.set(tags.context.payload, {"dram_tag": r[0], "context": {
                "t0": xts_tweak(r[4], r[5]), "k1_last": last_round_key(r[3])}})
            await ctx.tick()
            ctx.set(tags.context.valid, 0)

    async def sink(ctx):
        while True:
            for port in (path.decrypted, path.plain):
                ctx.set(port.ready, int(rng.random() < 0.5))
            _, _, d_v, d_r, d, p_v, p_r, p = await ctx.tick().sample(
                path.decrypted.valid, path.decrypted.ready, path.decrypted.payload,
                path.plain.valid, path.plain.ready, path.plain.payload)
            for v, rd, pl in ((d_v, d_r, d), (p_v, p_r, p)):
                if v and rd:
                    assert pl.tag not in got
                    got[pl.tag] = pl.data

    sim = Simulator(m)
    sim.add_clock(1e-6)
    sim.add_testbench(sink, background=True)
    sim.add_testbench(write_contexts, background=True)
    sim.add_testbench(tb)
    sim.run()
    assert got == {r[1]: r[6] for r in reads}
