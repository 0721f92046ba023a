"""cocotb side of ``python -m sim.bench_engine`` (not collected by pytest).

All figures are clock-cycle counts taken from the transfer cycles the BFMs stamp on every
transaction (never wall-clock). Results go to ``$BENCH_RESULTS`` as JSON.
"""

import json
import os

import cocotb

from verif.engine_tb import EngineTB

N = int(os.environ.get("BENCH_LINES", "256"))
beats = 4 // int(os.environ.get("BENCH_LANES", "1"))    # ideal cycles per line each way
PA = 48
K = 6
TME = (1 << 1) | (K << 32) | (1 << 48)


def addr(keyid, line):
    return (keyid << (PA - K)) | line


async def _setup(dut, latency=(10, 10)):
    tb = EngineTB(dut, dram_latency=latency, out_of_order=False)
    await tb.reset()
    status, _ = await tb.config_write(0, TME)
    assert status == 0
    for keyid in range(1, 64):
        assert await tb.program_key(keyid, 0, keyid * 3 + 1, keyid * 5 + 2) == 0
    return tb


def _rate(cycles):
    """Lines per cycle over a run of transfer cycles (first to last)."""
    span = cycles[-1] - cycles[0]
    return (len(cycles) - 1) / span if span else float("inf")


async def _stream(tb, write, n, key_change_at=None):
    """n requests, KeyID changing on every request; optional key program mid-stream."""
    pend = []
    for i in range(n):
        keyid = i % 63  # KeyIDs 0..62; 63 is the one the key change reprograms
        pend.append(await tb.issue(addr(keyid, 0x100000 + 64 * (i % 512)), write, i))
    if key_change_at is not None:
        while tb.up_req.sent < key_change_at:
            await tb.cycles_wait(1)
        assert await tb.program_key(63, 0, 0xABC, 0xDEF) == 0
    await tb.drain()
    return pend


@cocotb.test()
async def bench(dut):
    """Throughput per direction, added read latency, cost of a key change."""
    results = {}
    tb = await _setup(dut)
    # Writes, a different KeyID on every request.
    start = len(tb.dram.writes)
    pend = await _stream(tb, True, N)
    dram = [r.cycle for r in tb.dram.writes[start:]]
    results["write_blocks_per_cycle"] = 4 * _rate(dram)
    results["write_accept_blocks_per_cycle"] = 4 * _rate([p.request.cycle for p in pend])
    write_span = dram[-1] - dram[0]
    # Reads, a different KeyID on every request.
    pend = await _stream(tb, False, N)
    rsp = sorted(p.response.cycle for p in pend)
    results["read_blocks_per_cycle"] = 4 * _rate(rsp)
    read_span = rsp[-1] - rsp[0]
    # Added read latency: DRAM response transfer edge -> upstream response transfer edge,
    # one read at a time on an idle engine, up_rsp_ready held high.
    lat = {}
    for name, keyid in (("encrypted", 1), ("bypass_noencrypt_slot", 2)):
        if name.startswith("bypass"):
            assert await tb.program_key(2, 3) == 0  # NO_ENCRYPT
        samples = []
        for i in range(8):
            before = len(tb.dram.responses)
            r = await tb.read_line(addr(keyid, 0x200000 + 64 * i))
            samples.append(r.cycle - tb.dram.responses[before].cycle)
        lat[name] = samples
    results["read_latency_cycles"] = {k: {"min": min(v), "max": max(v)} for k, v in lat.items()}
    # A read to another line right behind an encrypted write (which waits about T + L cycles
    # for its tweak and ciphertext): upstream request -> response cycles, against the same read
    # alone. Reads pass writes to other lines, so the two should be equal.
    w = await tb.issue(addr(1, 0x300040), True, 7)
    r = await tb.issue(addr(1, 0x300080), False)
    await tb.drain()
    r_alone = await tb.issue(addr(1, 0x3000C0), False)
    await tb.drain()
    results["read_behind_encrypted_write_cycles"] = {
        "read_alone": r_alone.response.cycle - r_alone.request.cycle,
        "read_behind_write": r.response.cycle - r.request.cycle,
        "the_write": w.response.cycle - w.request.cycle}
    # Restore KeyID 2's key: the key-change streams must be the same traffic as the first ones
    # (a NO_ENCRYPT KeyID in them skips the AES pipelines and skews the comparison).
    assert await tb.program_key(2, 0, 2 * 3 + 1, 2 * 5 + 2) == 0
    # Key change in the middle of a stream: extra cycles against the same stream without it.
    for write, base in ((True, write_span), (False, read_span)):
        start_w = len(tb.dram.writes)
        pend = await _stream(tb, write, N, key_change_at=N // 2)
        if write:
            cyc = [r.cycle for r in tb.dram.writes[start_w:]]
        else:
            cyc = sorted(p.response.cycle for p in pend)
        side = "write" if write else "read"
        results[f"key_change_lost_cycles_{side}"] = (cyc[-1] - cyc[0]) - base
        # Span comparisons carry start-up differences between two runs; also report the
        # spans against the ideal (`beats` cycles per line) and the largest gap between consecutive
        # transfers within 40 cycles of the status handshake against the steady gap.
        kc = tb.last_kp_rsp.cycle
        gaps = [(b - a, b) for a, b in zip(cyc, cyc[1:], strict=False)]
        near = [g for g, at in gaps if abs(at - kc) <= 40]
        results[f"key_change_{side}"] = {
            "span_excess_without": base - beats * (len(cyc) - 1),
            "span_excess_with": (cyc[-1] - cyc[0]) - beats * (len(cyc) - 1),
            "status_cycle": kc, "max_gap_near_status": max(near) if near else None,
            "max_gap_elsewhere": max((g for g, at in gaps if abs(at - kc) > 40), default=None)}
    results["lines"] = N
    with open(os.environ["BENCH_RESULTS"], "w") as f:
        json.dump(results, f, indent=2)
