"""Amaranth-simulator test of request acceptance: each kind of request becomes the right
queue entry (errors and writes in the write queue with write numbers, reads in the read queue
with their DRAM tag and the next write's number, an encrypted write's plaintext in the write
path), the key read and the tweak request one cycle later carry the slot's keys, a tweak unit
that refuses holds everything in place, and ``up_req.ready`` never follows the request."""

from amaranth.sim import Simulator

from rtl.engine.acceptance import RequestAcceptance
from rtl.engine.layouts import RspError, SlotState, WriteKind

from ._util import cfg_fields

TME_ON = {0: (1 << 1) | (6 << 32) | (1 << 48)}        # ENABLE, KEYID_BITS=6, ALGS=XTS-128
KEYS = {1: {"k1": 0x11, "k1_last": 0x1111, "k2": 0x12},
        2: {"k1": 0x21, "k1_last": 0x2121, "k2": 0x22}}


def _addr(keyid, pa):
    return (keyid << 42) | pa


def test_entries_keys_and_tweak_requests():
    dut = RequestAcceptance(tag_width=8, dram_tag_width=5, number_width=7)
    writes, reads, plaintexts, tweaks = [], [], [], []

    async def queues(ctx):
        # Everything downstream has room; the tweak unit refuses in cycles 20..24; the key
        # memory answers the slot read in the previous enabled cycle (as the key table does).
        ctx.set(dut.writes.ready, 1)
        ctx.set(dut.reads.ready, 1)
        ctx.set(dut.write_data.ready, 1)
        ctx.set(dut.plain_data.ready, 1)
        ctx.set(dut.read_alloc.ready, 1)
        ctx.set(dut.read_alloc_tag, 9)
        cycle = 0
        async for _c, _r, key_en, key_addr, w_v, w, r_v, r, p_v, p, t_v, t_r, t in \
                ctx.tick().sample(dut.key_en, dut.key_addr, dut.writes.valid,
                                  dut.writes.payload, dut.reads.valid, dut.reads.payload,
                                  dut.write_data.valid, dut.write_data.payload,
                                  dut.tweak.valid, dut.tweak.ready, dut.tweak.payload):
            cycle += 1
            if key_en:
                ctx.set(dut.keys, KEYS[key_addr])
            ctx.set(dut.tweak.ready, int(not 20 <= cycle < 25))
            if w_v:
                writes.append((w.kind, w.addr, w.tag, w.error, w.number))
            if r_v:
                reads.append((r.addr, r.dram_tag, r.number))
            if p_v:
                plaintexts.append(p)
            if t_v and t_r:
                tweaks.append((t.index, t.key, t.tag.write, t.tag.dram_tag, t.tag.key))

    async def tb(ctx):
        ctx.set(dut.config, cfg_fields(TME_ON))
        ctx.set(dut.slot_states, [SlotState.KEY, SlotState.KEY, SlotState.KEY]
                + [SlotState.EMPTY] * 61)
        await ctx.tick()
        requests = [
            (_addr(1, 0x1000), 1, 1, 0xAAA),      # encrypted write, KeyID 1
            (_addr(2, 0x2000), 0, 2, 0),          # encrypted read, KeyID 2
            (0x2001, 0, 3, 0),                    # misaligned: error
            (_addr(1, 0x3000), 1, 4, 0xBBB),      # encrypted write
            (_addr(2, 0x1000), 0, 5, 0),          # encrypted read
        ] * 3
        for addr, write, tag, data in requests:
            ctx.set(dut.up_req.valid, 1)
            ctx.set(dut.up_req.payload, {"addr": addr, "write": write, "asid": 0, "tag": tag,
                                         "data": data})
            ready = ctx.get(dut.up_req.ready)
            for other in (0, _addr(63, 0x40) | 1, _addr(1, 0x80)):  # ready ignores the request
                ctx.set(dut.up_req.payload.addr, other)
                assert ctx.get(dut.up_req.ready) == ready
            ctx.set(dut.up_req.payload.addr, addr)
            await ctx.tick().until(dut.up_req.ready)
        ctx.set(dut.up_req.valid, 0)
        await ctx.tick().repeat(10)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(queues, background=True)
    sim.add_testbench(tb)
    sim.run()

    E, P = WriteKind.WRITE_ENCRYPTED, RspError.OK
    assert writes == [
        (E, 0x1000, 1, P, 0), (WriteKind.ERROR, 0, 3, RspError.BAD_ADDRESS, 1),
        (E, 0x3000, 4, P, 1),
        (E, 0x1000, 1, P, 2), (WriteKind.ERROR, 0, 3, RspError.BAD_ADDRESS, 3),
        (E, 0x3000, 4, P, 3),
        (E, 0x1000, 1, P, 4), (WriteKind.ERROR, 0, 3, RspError.BAD_ADDRESS, 5),
        (E, 0x3000, 4, P, 5)]
    assert reads == [(0x2000, 9, 1), (0x1000, 9, 2), (0x2000, 9, 3), (0x1000, 9, 4),
                     (0x2000, 9, 5), (0x1000, 9, 6)]
    assert plaintexts == [0xAAA, 0xBBB] * 3
    assert tweaks == [(0x1000, 0x12, 1, 9, 0x11), (0x2000, 0x22, 0, 9, 0x2121),
                      (0x3000, 0x12, 1, 9, 0x11), (0x1000, 0x22, 0, 9, 0x2121)] * 3
