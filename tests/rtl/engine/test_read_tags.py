"""Amaranth-simulator test of the read-tag table: lowest-free allocation until the table is
full, context write and synchronous read-back (held between reads), the known/context-ready
flags along a read's life, and the release that frees a tag."""

from amaranth.sim import Simulator

from rtl.engine.read_tags import ReadTagTable


def test_read_tag_lifecycle():
    dut = ReadTagTable(tag_width=8, dram_tag_width=2)

    async def tb(ctx):
        async def alloc(encrypted, up_tag):
            assert ctx.get(dut.alloc.ready)
            tag = ctx.get(dut.alloc_tag)
            ctx.set(dut.alloc.valid, 1)
            ctx.set(dut.alloc.payload, {"encrypted": encrypted, "tag": up_tag})
            await ctx.tick()
            ctx.set(dut.alloc.valid, 0)
            return tag

        # After reset the contexts are scrubbed (2**dram_tag_width cycles): no tag given out.
        for _ in range(4):
            assert ctx.get(dut.scrubbing) and not ctx.get(dut.alloc.ready)
            await ctx.tick()
        assert not ctx.get(dut.scrubbing)
        assert [await alloc(i % 2, 100 + i) for i in range(4)] == [0, 1, 2, 3]
        assert not ctx.get(dut.alloc.ready)                     # all four tags allocated

        for tag in range(4):
            ctx.set(dut.rsp_tag, tag)
            assert not ctx.get(dut.rsp_known)                    # not issued yet
            assert ctx.get(dut.rsp_encrypted) == tag % 2
            assert ctx.get(dut.rsp_up_tag) == 100 + tag
            # A plaintext read's context is ready at once, an encrypted one's is not.
            assert ctx.get(dut.rsp_context_ready) == (tag % 2 == 0)

        ctx.set(dut.context.valid, 1)
        ctx.set(dut.context.payload, {"dram_tag": 3, "context": {"t0": 0x1234, "k1_last": 77}})
        ctx.set(dut.issued.valid, 1)
        ctx.set(dut.issued.payload, 3)
        await ctx.tick()
        ctx.set(dut.context.valid, 0)
        ctx.set(dut.issued.valid, 0)
        ctx.set(dut.rsp_tag, 3)
        ctx.set(dut.context_tag, 3)
        assert ctx.get(dut.rsp_known) and ctx.get(dut.rsp_context_ready)
        assert ctx.get(dut.context_tag_ready)
        ctx.set(dut.context_read, 1)                  # synchronous read: data next cycle
        await ctx.tick()
        ctx.set(dut.context_read, 0)
        ctx.set(dut.context_tag, 1)                   # held while context_read is low
        assert ctx.get(dut.context_data.t0) == 0x1234
        assert ctx.get(dut.context_data.k1_last) == 77
        assert not ctx.get(dut.context_tag_ready)     # tag 1: encrypted, no context yet
        await ctx.tick()
        assert ctx.get(dut.context_data.t0) == 0x1234

        ctx.set(dut.release, 1)
        await ctx.tick()
        ctx.set(dut.release, 0)
        assert not ctx.get(dut.rsp_known) and not ctx.get(dut.rsp_context_ready)
        assert ctx.get(dut.alloc.ready) and ctx.get(dut.alloc_tag) == 3

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(tb)
    sim.run()
