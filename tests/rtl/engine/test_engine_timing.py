"""Amaranth-simulator checks of the engine's performance contract (DESIGN §7,
docs/integration.md §3), for lanes 1, 2 and 4: read latency, full-rate throughput with a new
KeyID on every request, and the decrypted-line cut-through under upstream backpressure.

Latency is counted in clock edges from the DRAM response transfer to the upstream response
transfer, with ``up_rsp.ready`` held high. An encrypted line takes L + beats - 1, where
beats = 4 / lanes is the number of cycles a line takes through the AES pipelines (the first
beat enters the decrypt pipelines in the DRAM response cycle, and the line is offered in the
cycle its last beat leaves); a plaintext line takes 1 (one queue register). Decryption
therefore adds L + 2 cycles to a read with lanes = 1, L with lanes = 4.
"""

import random
from functools import partial

import pytest
from amaranth.sim import Simulator

from rtl.engine.engine import MEEngine
from rtl.engine.layouts import CfgStatus, KeyProgramCommand, KeyProgramStatus, RspError

from ._slow_tweak import SlowTweakUnit
from ._util import stream_get, stream_put, xts_line_encrypt

# > L + 1 for every configuration below (L up to 40): the tweak is always ready before the
# data returns.
DRAM_LATENCY = 44
KEYID_BITS = 6


def _addr(keyid, pa):
    return (keyid << (48 - KEYID_BITS)) | pa


def _run(dut, body, dram_lines):
    """Simulate ``body(ctx, log)`` against ``dut`` with a fixed-latency in-order DRAM holding
    ``dram_lines`` ({addr: stored line}, updated by the writes); ``log`` collects
    ``(cycle, kind, payload)`` of every DRAM write and read request transfer (``"dram_write"``,
    ``"dram_read"``), DRAM response transfer (``"dram_rsp"``), upstream response transfer
    (``"up_rsp"``) and cycle with an upstream response offered but stalled (``"up_stall"``)."""
    log = []
    cycle = [0]

    async def clock_and_dram(ctx):
        due = []                            # [cycle, tag, line] in request order
        ctx.set(dut.dram_req.ready, 1)
        async for _c, _r, q_valid, q, r_valid, r_ready, u_valid, u_ready, u in ctx.tick().sample(
                dut.dram_req.valid, dut.dram_req.payload, dut.dram_rsp.valid,
                dut.dram_rsp.ready, dut.up_rsp.valid, dut.up_rsp.ready, dut.up_rsp.payload):
            cycle[0] += 1
            if q_valid and q.write:
                log.append((cycle[0], "dram_write", (q.addr, q.data)))
                dram_lines[q.addr] = q.data
            if q_valid and not q.write:
                log.append((cycle[0], "dram_read", (q.addr, q.tag)))
                due.append([cycle[0] + DRAM_LATENCY, q.tag, dram_lines[q.addr]])
            if r_valid and r_ready:
                log.append((cycle[0], "dram_rsp", due.pop(0)))
            if u_valid:
                kind = "up_rsp" if u_ready else "up_stall"
                log.append((cycle[0], kind, (u.tag, u.data, u.error)))
            if due and due[0][0] <= cycle[0]:
                ctx.set(dut.dram_rsp.valid, 1)
                ctx.set(dut.dram_rsp.payload, {"tag": due[0][1], "data": due[0][2]})
            else:
                ctx.set(dut.dram_rsp.valid, 0)

    async def setup_and_body(ctx):
        await ctx.tick().until(dut.kp_req.ready)                  # key memory scrubbed
        ctx.set(dut.entropy.valid, 1)
        ctx.set(dut.entropy.payload, 1)
        await stream_put(ctx, dut.cfg_req, {"addr": 0, "write": 1,
                                            "data": (1 << 1) | (KEYID_BITS << 32) | (1 << 48)})
        assert (await stream_get(ctx, dut.cfg_rsp)).status == CfgStatus.OK
        ctx.set(dut.entropy.valid, 0)
        await body(ctx, log, cycle)

    sim = Simulator(dut)
    sim.add_clock(1e-6)
    sim.add_testbench(clock_and_dram, background=True)
    sim.add_testbench(setup_and_body)
    sim.run()
    return log


async def _program(ctx, dut, keyid, command, k1=0, k2=0):
    await stream_put(ctx, dut.kp_req, {"keyid": keyid, "command": command, "enc_alg": 1,
                                       "key1": k1, "key2": k2})
    assert (await stream_get(ctx, dut.kp_rsp)).status == KeyProgramStatus.PROG_SUCCESS


# The ebr cases are the FPGA configuration (sim.fpga.ENGINE_SBOX / ENGINE_REGS_PER_ROUND: block-
# RAM S-boxes, four registers per round, key steps shared by a line's blocks, the folded
# tweak), with lanes 1 and 2, and its three-register variant.
@pytest.mark.parametrize("lanes,regs_per_round,sbox",
                         [(1, 1, "table"), (1, 2, "table"), (2, 1, "table"), (4, 1, "table"),
                          (1, 3, "ebr"), (1, 4, "ebr"), (2, 4, "ebr")])
def test_read_latency_encrypted_and_bypass(lanes, regs_per_round, sbox):
    dut = MEEngine(lanes=lanes, regs_per_round=regs_per_round, sbox=sbox)
    L, beats = dut.aes_latency, 4 // lanes
    rng = random.Random(regs_per_round * 10 + lanes)
    k1, k2 = rng.randrange(1 << 128), rng.randrange(1 << 128)
    plain = {0x1000 + 64 * i: rng.randrange(1 << 512) for i in range(3)}
    dram = {a: xts_line_encrypt(k1, k2, a, p) for a, p in plain.items()}
    dram.update({0x8000 + 64 * i: rng.randrange(1 << 512) for i in range(3)})

    async def body(ctx, log, cycle):
        await _program(ctx, dut, 5, KeyProgramCommand.SET_KEY_DIRECT, k1, k2)
        await _program(ctx, dut, 7, KeyProgramCommand.NO_ENCRYPT)
        ctx.set(dut.up_rsp.ready, 1)
        for tag, (keyid, pa) in enumerate([(5, a) for a in plain] +
                                          [(7, 0x8000 + 64 * i) for i in range(3)]):
            n = len(log)
            await stream_put(ctx, dut.up_req, {"addr": _addr(keyid, pa), "write": 0,
                                               "tag": tag, "data": 0, "asid": 0})
            await ctx.tick().repeat(DRAM_LATENCY + L + 10)           # one read at a time
            assert [k for _c, k, _p in log[n:]] == ["dram_read", "dram_rsp", "up_rsp"]

    log = [e for e in _run(dut, body, dram) if e[1] != "dram_read"]
    pairs = list(zip(log[0::2], log[1::2], strict=True))
    enc = [u[0] - d[0] for d, u in pairs[:3]]
    byp = [u[0] - d[0] for d, u in pairs[3:]]
    assert enc == [L + beats] * 3
    assert byp == [1] * 3
    for (_d, up), (a, p) in zip(pairs[:3], plain.items(), strict=True):
        assert up[2] == (up[2][0], p, RspError.OK), hex(a)
    for (_d, up), i in zip(pairs[3:], range(3), strict=True):
        assert up[2][1] == dram[0x8000 + 64 * i]


@pytest.mark.parametrize("lanes,regs_per_round,sbox",
                         [(1, 1, "table"), (2, 1, "table"), (4, 1, "table"), (1, 4, "ebr"),
                          (2, 4, "ebr")])
def test_full_rate_with_a_new_keyid_every_request(lanes, regs_per_round, sbox):
    """16 encrypted writes, then 16 encrypted reads, back to back, KeyIDs 1..8 in turn: DRAM
    writes and upstream read responses leave every 4 / lanes cycles (one line per AES beat
    sequence, no bubble on a key change), with the right ciphertext and plaintext. The last
    case is the FPGA configuration, with its folded tweak unit."""
    dut = MEEngine(lanes=lanes, regs_per_round=regs_per_round, sbox=sbox)
    beats = 4 // lanes
    rng = random.Random(40 + lanes)
    keys = {k: (rng.randrange(1 << 128), rng.randrange(1 << 128)) for k in range(1, 9)}
    reqs = [(1 + i % 8, 0x20000 + 64 * i, rng.randrange(1 << 512)) for i in range(16)]
    dram = {}

    async def body(ctx, log, cycle):
        for keyid, (k1, k2) in keys.items():
            await _program(ctx, dut, keyid, KeyProgramCommand.SET_KEY_DIRECT, k1, k2)
        ctx.set(dut.up_rsp.ready, 1)
        for tag, (keyid, pa, line) in enumerate(reqs):
            await stream_put(ctx, dut.up_req, {"addr": _addr(keyid, pa), "write": 1,
                                               "tag": tag, "data": line, "asid": 0})
        # The reads start once every write has reached DRAM: reads now pass writes to other
        # lines but wait for writes to their own line, which would pace them here.
        while sum(k == "dram_write" for _c, k, _p in log) < len(reqs):
            await ctx.tick()
        for tag, (keyid, pa, _line) in enumerate(reqs):
            await stream_put(ctx, dut.up_req, {"addr": _addr(keyid, pa), "write": 0,
                                               "tag": 32 + tag, "data": 0, "asid": 0})
        await ctx.tick().repeat(DRAM_LATENCY + 100)

    log = _run(dut, body, dram)
    writes = [(c, p) for c, k, p in log if k == "dram_write"]
    assert [a for _c, (a, _d) in writes] == [pa for _k, pa, _l in reqs]
    for (_c, (a, d)), (keyid, pa, line) in zip(writes, reqs, strict=True):
        assert d == xts_line_encrypt(*keys[keyid], pa, line), hex(a)
    gaps = {b[0] - a[0] for a, b in zip(writes, writes[1:], strict=False)}
    assert gaps == {beats}, f"DRAM write spacing {sorted(gaps)}"
    reads = [(c, p) for c, k, p in log if k == "up_rsp" and p[0] >= 32]
    assert [(t, d, e) for _c, (t, d, e) in reads] == [
        (32 + i, line, RspError.OK) for i, (_k, _pa, line) in enumerate(reqs)]
    gaps = {b[0] - a[0] for a, b in zip(reads, reads[1:], strict=False)}
    assert gaps == {beats}, f"read response spacing {sorted(gaps)}"


def test_decrypted_line_held_under_backpressure():
    """Three encrypted reads complete while ``up_rsp.ready`` is low: the first line is offered
    in the cycle it leaves the pipeline (cut-through), its valid and payload are held on every
    stalled cycle (lib.stream rule), and all three arrive intact and in order once released."""
    dut = MEEngine(sbox="table")
    L = dut.aes_latency
    rng = random.Random(9)
    k1, k2 = rng.randrange(1 << 128), rng.randrange(1 << 128)
    plain = {0x4000 + 64 * i: rng.randrange(1 << 512) for i in range(3)}
    dram = {a: xts_line_encrypt(k1, k2, a, p) for a, p in plain.items()}
    async def body(ctx, log, cycle):
        await _program(ctx, dut, 3, KeyProgramCommand.SET_KEY_DIRECT, k1, k2)
        ctx.set(dut.up_rsp.ready, 0)
        for tag, pa in enumerate(plain):
            await stream_put(ctx, dut.up_req, {"addr": _addr(3, pa), "write": 0,
                                               "tag": tag, "data": 0, "asid": 0})
        await ctx.tick().repeat(DRAM_LATENCY + L + 30)
        ctx.set(dut.up_rsp.ready, 1)
        await ctx.tick().repeat(10)

    log = _run(dut, body, dram)
    dram_rsp = [c for c, k, _p in log if k == "dram_rsp"]
    ups = [p for _c, k, p in log if k == "up_rsp"]
    offered = [(c, p) for c, k, p in log if k == "up_stall"]
    assert len(dram_rsp) == 3
    # Offered from the cycle block 3 of the first line left the pipeline, never withdrawn.
    assert offered[0][0] == dram_rsp[0] + L + 4
    assert [c for c, _p in offered] == list(range(offered[0][0], offered[-1][0] + 1))
    assert len(offered) > 20
    assert {p for _c, p in offered} == {(0, plain[0x4000], RspError.OK)}
    assert ups == [(t, p, RspError.OK) for t, p in enumerate(plain.values())]


def test_reads_pass_unrelated_writes_but_keep_same_line_order():
    """Back to back: encrypted write A, read B, read A, plaintext write A. Read B reaches DRAM
    at once, ahead of the write still waiting for its ciphertext; read A waits for write A
    (read-after-write) and returns its data; the later write A waits for read A
    (write-after-read)."""
    dut = MEEngine(sbox="table")
    L = dut.aes_latency
    rng = random.Random(77)
    k1, k2 = rng.randrange(1 << 128), rng.randrange(1 << 128)
    a, b = 0x1000, 0x2000
    p1, pb, p3 = (rng.randrange(1 << 512) for _ in range(3))
    dram = {b: xts_line_encrypt(k1, k2, b, pb)}

    async def body(ctx, log, cycle):
        await _program(ctx, dut, 5, KeyProgramCommand.SET_KEY_DIRECT, k1, k2)
        await _program(ctx, dut, 7, KeyProgramCommand.NO_ENCRYPT)
        ctx.set(dut.up_rsp.ready, 1)
        for tag, (keyid, pa, write, line) in enumerate(
                [(5, a, 1, p1), (5, b, 0, 0), (5, a, 0, 0), (7, a, 1, p3)]):
            await stream_put(ctx, dut.up_req, {"addr": _addr(keyid, pa), "write": write,
                                               "tag": tag, "data": line, "asid": 0})
        await ctx.tick().repeat(2 * L + DRAM_LATENCY + 40)

    log = _run(dut, body, dram)
    issued = [(c, k, p[0]) for c, k, p in log if k in ("dram_read", "dram_write")]
    assert [(k, addr) for _c, k, addr in issued] == [
        ("dram_read", b), ("dram_write", a), ("dram_read", a), ("dram_write", a)]
    assert issued[1][0] - issued[0][0] > L              # B did not wait for the encryption
    ups = {p[0]: p[1:] for _c, k, p in log if k == "up_rsp"}
    assert ups == {0: (0, RspError.OK), 1: (pb, RspError.OK), 2: (p1, RspError.OK),
                   3: (0, RspError.OK)}
    assert dram[a] == p3


def test_same_line_order_after_many_reads_pass_a_waiting_write():
    """The age comparison must not wrap. ``up_rsp`` is stalled, so four write completions
    fill the completion queue and a plaintext write W to line X waits at the write-queue head;
    100 reads to other lines (more than half of any 7-bit number space) are accepted and sent
    past it; then a read R of X. R must reach DRAM after W and return W's data. (The reverted
    design numbered every request modulo 2**7: after 64 or more passing requests R looked
    older than W, overtook it and read the stale line.)"""
    dut = MEEngine(sbox="table", dram_tag_width=8)
    rng = random.Random(99)
    x = 0x100000
    others = [0x200000 + 64 * i for i in range(100)]
    old_x, new_x = rng.randrange(1 << 512), rng.randrange(1 << 512)
    dram = {x: old_x, **{o: o for o in others}}

    async def body(ctx, log, cycle):
        await _program(ctx, dut, 7, KeyProgramCommand.NO_ENCRYPT)
        ctx.set(dut.up_rsp.ready, 0)
        requests = ([(0x300000 + 64 * i, 1, i) for i in range(4)] + [(x, 1, new_x)]
                    + [(o, 0, 0) for o in others] + [(x, 0, 0)])
        for tag, (pa, write, line) in enumerate(requests):
            await stream_put(ctx, dut.up_req, {"addr": _addr(7, pa), "write": write,
                                               "tag": tag, "data": line, "asid": 0})
        await ctx.tick().repeat(40)
        ctx.set(dut.up_rsp.ready, 1)
        await ctx.tick().repeat(len(requests) + DRAM_LATENCY + 40)

    log = _run(dut, body, dram)
    issued = [(k, p[0]) for _c, k, p in log if k in ("dram_read", "dram_write")]
    assert issued.index(("dram_write", x)) < issued.index(("dram_read", x))
    assert sorted(a for k, a in issued if k == "dram_read") == sorted(others + [x])
    ups = {p[0]: p[1:] for _c, k, p in log if k == "up_rsp"}
    assert len(ups) == 106
    assert ups[105] == (new_x, RspError.OK)


@pytest.mark.parametrize("period", [2, 4])
def test_slow_tweak_unit(period):
    """A tweak unit that takes one request every ``period`` cycles (a folded AES): encrypted
    writes then reads, back to back with a new KeyID each, all arrive intact and in order, and
    with period 2 (one tweak per 2 cycles, enough for a line every 4 cycles each way) writes
    still leave at full rate."""
    dut = MEEngine(sbox="table", tweak_unit=partial(SlowTweakUnit, period=period))
    rng = random.Random(50 + period)
    keys = {k: (rng.randrange(1 << 128), rng.randrange(1 << 128)) for k in range(1, 5)}
    reqs = [(1 + i % 4, 0x40000 + 64 * i, rng.randrange(1 << 512)) for i in range(8)]
    dram = {}

    async def body(ctx, log, cycle):
        for keyid, (k1, k2) in keys.items():
            await _program(ctx, dut, keyid, KeyProgramCommand.SET_KEY_DIRECT, k1, k2)
        ctx.set(dut.up_rsp.ready, 1)
        for tag, (keyid, pa, line) in enumerate(reqs):
            await stream_put(ctx, dut.up_req, {"addr": _addr(keyid, pa), "write": 1,
                                               "tag": tag, "data": line, "asid": 0})
        while sum(k == "dram_write" for _c, k, _p in log) < len(reqs):
            await ctx.tick()
        for tag, (keyid, pa, _line) in enumerate(reqs):
            await stream_put(ctx, dut.up_req, {"addr": _addr(keyid, pa), "write": 0,
                                               "tag": 32 + tag, "data": 0, "asid": 0})
        await ctx.tick().repeat(DRAM_LATENCY + 100)

    log = _run(dut, body, dram)
    writes = [(c, p) for c, k, p in log if k == "dram_write"]
    assert [(a, d) for _c, (a, d) in writes] == [
        (pa, xts_line_encrypt(*keys[keyid], pa, line)) for keyid, pa, line in reqs]
    if period == 2:
        assert {b[0] - a[0] for a, b in zip(writes, writes[1:], strict=False)} == {4}
    reads = [p for _c, k, p in log if k == "up_rsp" and p[0] >= 32]
    assert reads == [(32 + i, line, RspError.OK) for i, (_k, _pa, line) in enumerate(reqs)]
