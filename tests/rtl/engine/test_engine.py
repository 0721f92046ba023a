"""Amaranth-simulator smoke test of the whole engine core (MEEngine): program keys, write and
read lines in several decode cases, check the DRAM contents against XTS-AES-128 built from
``cryptography``'s AES-ECB, the read-back plaintext, an error response that touches no memory,
and the atomic key switch (a request accepted before a key change keeps the old key)."""

import random

from amaranth.sim import Simulator

from rtl.engine.engine import MEEngine
from rtl.engine.layouts import CfgStatus, KeyProgramStatus, RspError

from ._util import stream_get, stream_put, xts_line_encrypt

ENTROPY = int.from_bytes(bytes(range(100, 132)), "little")
TME_KEY1, TME_KEY2 = ENTROPY & (2**128 - 1), ENTROPY >> 128


def test_engine_write_read_smoke():
    dut = MEEngine()
    rng = random.Random(5)
    dram = {}           # addr -> line as stored
    dram_log = []       # (write, addr, data)
    responses = {}      # tag -> (data, error)
    K1, K2 = rng.randrange(1 << 128), rng.randrange(1 << 128)
    K1B, K2B = rng.randrange(1 << 128), rng.randrange(1 << 128)
    lines = [rng.randrange(1 << 512) for _ in range(4)]

    async def dram_model(ctx):
        pending = []
        answered = None
        ctx.set(dut.dram_req.ready, 1)
        async for _clk, _rst, valid, payload, r_valid, r_ready in ctx.tick().sample(
                dut.dram_req.valid, dut.dram_req.payload, dut.dram_rsp.valid, dut.dram_rsp.ready):
            if valid:
                dram_log.append((payload.write, payload.addr, payload.data))
                if payload.write:
                    dram[payload.addr] = payload.data
                else:
                    pending.append((payload.tag, dram.get(payload.addr, 0)))
            # Answer reads out of order: newest first, one per cycle.
            if r_valid and r_ready:
                pending.remove(answered)
            if pending:
                answered = pending[-1]
                tag, line = answered
                ctx.set(dut.dram_rsp.valid, 1)
                ctx.set(dut.dram_rsp.payload, {"tag": tag, "data": line})
            else:
                ctx.set(dut.dram_rsp.valid, 0)

    async def rsp_collector(ctx):
        ctx.set(dut.up_rsp.ready, 1)
        async for _clk, _rst, valid, payload in ctx.tick().sample(dut.up_rsp.valid,
                                                                 dut.up_rsp.payload):
            if valid:
                assert payload.tag not in responses
                responses[payload.tag] = (payload.data, payload.error)

    async def req(ctx, addr, write=False, data=0, tag=0, asid=0):
        await stream_put(ctx, dut.up_req, {"addr": addr, "write": write, "data": data,
                                           "tag": tag, "asid": asid})

    async def wait_rsp(ctx, tag):
        for _ in range(200):
            if tag in responses:
                return responses.pop(tag)
            await ctx.tick()
        raise AssertionError(f"no response for tag {tag}")

    async def tb(ctx):
        await ctx.tick().until(dut.kp_req.ready)                  # key memory scrubbed
        ctx.set(dut.entropy.valid, 1)
        ctx.set(dut.entropy.payload, ENTROPY)
        await stream_put(ctx, dut.cfg_req, {"addr": 0, "write": 1,
                                            "data": (1 << 1) | (6 << 32) | (1 << 48)})
        assert (await stream_get(ctx, dut.cfg_rsp)).status == CfgStatus.OK
        ctx.set(dut.entropy.valid, 0)
        await stream_put(ctx, dut.kp_req, {"keyid": 5, "command": 0, "enc_alg": 1,
                                           "key1": K1, "key2": K2})
        assert (await stream_get(ctx, dut.kp_rsp)).status == KeyProgramStatus.PROG_SUCCESS

        # KeyID 5 write, KeyID 0 (TME key) write, KeyID 2 (EMPTY -> TME key) write, back to back.
        a5, a0, a2 = (5 << 42) | 0x1000, 0x2040, (2 << 42) | 0x3080
        await req(ctx, a5, True, lines[0], tag=1)
        await req(ctx, a0, True, lines[1], tag=2)
        await req(ctx, a2, True, lines[2], tag=3)
        await req(ctx, 0x41, True, lines[3], tag=4)               # misaligned: BAD_ADDRESS
        for t in (1, 2, 3):
            assert await wait_rsp(ctx, t) == (0, RspError.OK)
        assert await wait_rsp(ctx, 4) == (0, RspError.BAD_ADDRESS)
        assert dram[0x1000] == xts_line_encrypt(K1, K2, 0x1000, lines[0])
        assert dram[0x2040] == xts_line_encrypt(TME_KEY1, TME_KEY2, 0x2040, lines[1])
        assert dram[0x3080] == xts_line_encrypt(TME_KEY1, TME_KEY2, 0x3080, lines[2])
        assert [a for w, a, d in dram_log] == [0x1000, 0x2040, 0x3080]   # acceptance order

        # Read back, all three in flight together (DRAM answers out of order).
        await req(ctx, a5, tag=11)
        await req(ctx, a0, tag=12)
        await req(ctx, a2, tag=13)
        for t, line in ((11, lines[0]), (12, lines[1]), (13, lines[2])):
            assert await wait_rsp(ctx, t) == (line, RspError.OK)

        # Atomic switch: a read accepted before the new key's status keeps the old key; the
        # write accepted after it uses the new one.
        await req(ctx, a5, tag=21)
        await stream_put(ctx, dut.kp_req, {"keyid": 5, "command": 0, "enc_alg": 1,
                                           "key1": K1B, "key2": K2B})
        assert (await stream_get(ctx, dut.kp_rsp)).status == KeyProgramStatus.PROG_SUCCESS
        await req(ctx, a5 | 0x40, True, lines[3], tag=22)
        assert await wait_rsp(ctx, 21) == (lines[0], RspError.OK)
        assert await wait_rsp(ctx, 22) == (0, RspError.OK)
        assert dram[0x1040] == xts_line_encrypt(K1B, K2B, 0x1040, lines[3])
        assert len(dram_log) == 8                                  # the error never reached DRAM

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(dram_model, background=True)
    sim.add_testbench(rsp_collector, background=True)
    sim.add_testbench(tb)
    sim.run()


def test_unknown_dram_tag_dropped_and_flagged():
    """A DRAM response whose tag has no read out at the DRAM (none allocated, or allocated but
    not yet issued) is consumed and dropped with ``err_dram_rsp_tag`` set; it neither blocks nor
    answers the outstanding read, which completes with its own data afterwards."""
    dut = MEEngine(sbox="table")
    line = random.Random(3).randrange(1 << 512)
    ups = []

    async def rsp_collector(ctx):
        ctx.set(dut.up_rsp.ready, 1)
        async for _clk, _rst, valid, payload in ctx.tick().sample(dut.up_rsp.valid,
                                                                 dut.up_rsp.payload):
            if valid:
                ups.append((payload.tag, payload.data, payload.error))

    async def stray(ctx, tag):
        ctx.set(dut.dram_rsp.valid, 1)
        ctx.set(dut.dram_rsp.payload, {"tag": tag, "data": 0xBAD})
        assert ctx.get(dut.dram_rsp.ready)                       # taken at once, not held
        await ctx.tick()
        ctx.set(dut.dram_rsp.valid, 0)

    async def tb(ctx):
        await ctx.tick().until(dut.kp_req.ready)
        assert not ctx.get(dut.err_dram_rsp_tag)
        await stray(ctx, 3)                                      # nothing outstanding
        await ctx.tick()                     # looked up from the response register
        assert ctx.get(dut.err_dram_rsp_tag)
        # TME off: a plaintext read. Hold the DRAM request so its tag is allocated, not issued.
        await stream_put(ctx, dut.up_req, {"addr": 0x1000, "write": 0, "tag": 7, "data": 0,
                                           "asid": 0})
        await ctx.tick()
        assert ctx.get(dut.dram_req.valid)
        dtag = ctx.get(dut.dram_req.payload.tag)
        await stray(ctx, dtag)                                   # allocated but not out yet
        await ctx.tick().repeat(3)
        assert ups == []
        ctx.set(dut.dram_req.ready, 1)
        await ctx.tick()
        ctx.set(dut.dram_req.ready, 0)
        await stream_put(ctx, dut.dram_rsp, {"tag": dtag, "data": line})
        await ctx.tick().repeat(3)
        assert ups == [(7, line, RspError.OK)]
        assert ctx.get(dut.err_dram_rsp_tag)                     # sticky until reset

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(rsp_collector, background=True)
    sim.add_testbench(tb)
    sim.run()


def test_top_passes_depth_defaults_through():
    """MEEngineTop leaves the queue depths to MEEngine, which sizes them for the lanes."""
    from amaranth import Elaboratable

    from rtl.engine.top import MEEngineTop

    def inspect(component):
        # Built only to inspect, never elaborated: silence it and the components it built.
        todo = [component]
        while todo:
            item = todo.pop()
            if isinstance(item, Elaboratable) and not getattr(item, "_MustUse__silence", False):
                item._MustUse__silence = True
                todo.extend(vars(item).values())
            elif isinstance(item, (list, tuple)):
                todo.extend(item)
        return component

    for lanes in (1, 2, 4):
        core, top = inspect(MEEngine(lanes=lanes)), inspect(MEEngineTop(lanes=lanes))
        inspect(top.core)
        assert (top.core.order_depth, top.core.write_depth) == (core.order_depth,
                                                                core.write_depth)
    assert (core.order_depth, core.write_depth) == (32, 14)          # lanes=4, L=10
    one = inspect(MEEngine())
    assert (one.order_depth, one.write_depth) == (16, 8)
