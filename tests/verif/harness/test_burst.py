"""The burst harness (verif/harness/burst.py) in Amaranth's simulator, around the crypto-free
loopback (tests/sim/bfm_loopback.py) so that every number is easy to predict.

A small Python pump (like :class:`verif.bfm.burst.BurstTransport`, but on ``ctx``) writes
request slots, services misses through the fill ring and collects the records.
"""

import random

import pytest
from amaranth import ClockDomain, Module
from amaranth.sim import Simulator

from verif.bfm.burst import pack_record, record_fields, unpack_record
from verif.harness.burst import DRAM_REC, FILL, UP_REQ, UP_RSP_REC, BurstHarness, lfsr_next

LOOPBACK = "tests.sim.bfm_loopback:BfmLoopback"
REQ_F, RSP_F, DRAM_F, FILL_F = (record_fields(x) for x in (UP_REQ, UP_RSP_REC, DRAM_REC, FILL))


def _harness(**kw):
    kw.setdefault("ring_depth", 8)
    kw.setdefault("fill_depth", 4)
    kw.setdefault("dram_index_bits", 2)
    return BurstHarness(engine=LOOPBACK, **kw)


def _simulate(dut, requests, *, seed=1, pause=None, latency=(2, 5), cycles=120, fill_delay=0,
              reset_at=None, init_at=None, later=()):
    """Run *requests* (dicts of UP_REQ fields) through *dut*; return what was recorded."""
    out = {"rsp": [], "dram": [], "acc": [], "fills": [], "stalls": {}, "flags": {}}
    depth, fdepth = dut.ring_depth, dut.fill_depth
    mod, fmod = 2 * depth, 2 * fdepth
    mem = {}

    async def bench(ctx):
        ctx.set(dut.seed, seed)
        ctx.set(dut.init, 1)
        ctx.set(dut.lat_lo, latency[0])
        ctx.set(dut.lat_span, latency[1] - latency[0] + 1)
        for port, p in (pause or {}).items():
            ctx.set(getattr(dut, f"p_{port}"), p)
        await ctx.tick()
        ctx.set(dut.init, 0)
        queue = list(requests)
        wp = seen = rs_rp = dr_rp = fl_wp = 0
        misses = []
        for cyc in range(cycles):
            if init_at is not None:
                # a new test in the same simulation: init again, then the later requests
                ctx.set(dut.init, cyc == init_at)
                if cyc == init_at:
                    mem.clear()
                    queue.extend(later)
            if reset_at is not None:
                in_reset = reset_at[0] <= cyc < reset_at[1]
                ctx.set(cd.rst, in_reset)
                if in_reset:  # what BurstTransport.abort_requests does
                    queue.clear()
                    seen = wp = ctx.get(dut.rq_rp)
            rp = ctx.get(dut.rq_rp)
            while seen != rp:
                out["acc"].append(ctx.get(getattr(dut, f"acc{seen % depth}")))
                seen = (seen + 1) % mod
            while queue and (wp - seen) % mod < depth:
                ctx.set(getattr(dut, f"rq{wp % depth}"), pack_record(queue.pop(0), REQ_F))
                wp = (wp + 1) % mod
            ctx.set(dut.rq_wp, wp)
            while rs_rp != ctx.get(dut.rs_wp):
                out["rsp"].append(unpack_record(ctx.get(getattr(dut, f"rs{rs_rp % depth}")),
                                                RSP_F))
                rs_rp = (rs_rp + 1) % mod
            ctx.set(dut.rs_rp, rs_rp)
            while dr_rp != ctx.get(dut.dr_wp):
                rec = unpack_record(ctx.get(getattr(dut, f"dr{dr_rp % depth}")), DRAM_F)
                out["dram"].append(rec)
                if rec["write"]:
                    mem[rec["addr"]] = rec["data"]
                elif rec["miss"]:
                    misses.append((cyc + fill_delay, rec["tag"], mem.get(rec["addr"], 0)))
                dr_rp = (dr_rp + 1) % mod
            ctx.set(dut.dr_rp, dr_rp)
            while misses and misses[0][0] <= cyc:
                _, tag, value = misses.pop(0)
                ctx.set(getattr(dut, f"fl{fl_wp % fdepth}"),
                        pack_record({"tag": tag, "data": value}, FILL_F))
                fl_wp = (fl_wp + 1) % fmod
                out["fills"].append((cyc, tag))
            ctx.set(dut.fl_wp, fl_wp)
            await ctx.tick()
        out["stalls"] = {p: ctx.get(getattr(dut, f"st_{p}"))
                         for p in ("up_req", "up_rsp", "dram_req", "dram_rsp")}
        out["flags"] = {f: ctx.get(getattr(dut, f))
                        for f in ("err_dram_tag", "err_dram_req", "err_up_rsp")}
        out["busy"] = ctx.get(dut.dram_busy)
        out["left"] = (wp - ctx.get(dut.rq_rp)) % mod

    top = Module()
    top.domains.sync = cd = ClockDomain()
    top.submodules.dut = dut
    sim = Simulator(top)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    return out


def _w(addr, data, tag):
    return {"addr": addr, "write": 1, "tag": tag, "data": data}


def _r(addr, tag):
    return {"addr": addr, "write": 0, "tag": tag}


D1, D2 = 0x1111 << 300 | 0xABC, 0x2222 << 100 | 0xDEF
# 0x40 and 0x140 share line-store entry 1 (2 index bits): the second write evicts the first.
TRAFFIC = [_w(0x40, D1, 1), _w(0x140, D2, 2), _r(0x40, 3), _r(0x140, 4), _r(0x80, 5)]


def test_requests_responses_dram_and_miss_fill():
    """Every request reaches the loopback in order; writes land in the line store; a read of a
    line evicted by an aliasing write is a miss answered from the fill; a hit and a
    never-written line (0) are answered by the harness alone; cycles are consistent."""
    out = _simulate(_harness(), TRAFFIC)
    assert [(r["addr"], r["write"], r["miss"]) for r in out["dram"]] == [
        (0x40, 1, 0), (0x140, 1, 0), (0x40, 0, 1), (0x140, 0, 0), (0x80, 0, 0)]
    rsp = {r["tag"]: r for r in out["rsp"]}
    assert sorted(rsp) == [1, 2, 3, 4, 5]
    assert (rsp[3]["data"], rsp[4]["data"], rsp[5]["data"]) == (D1, D2, 0)
    assert all(r["error"] == 0 for r in out["rsp"])
    assert len(out["fills"]) == 1 and out["fills"][0][1] == out["dram"][2]["tag"]
    assert out["acc"] == sorted(out["acc"]) and len(out["acc"]) == 5
    assert all(a < d["cycle"] + 1 for a, d in zip(out["acc"], out["dram"], strict=True))
    assert out["flags"] == {"err_dram_tag": 0, "err_dram_req": 0, "err_up_rsp": 0}
    assert out["busy"] == 0


def test_init_forgets_the_lines_of_an_earlier_test():
    """After ``init`` (a new test in the same simulation) a line written before reads as a
    never-written line (0), without a miss: nothing leaks from one test into the next."""
    out = _simulate(_harness(), [_w(0x40, D1, 1)], init_at=30, later=[_r(0x40, 2)], cycles=80)
    assert [(r["write"], r["miss"]) for r in out["dram"]] == [(1, 0), (0, 0)]
    assert out["dram"][1]["data"] == 0
    assert next(r["data"] for r in out["rsp"] if r["tag"] == 2) == 0
    again = _simulate(_harness(), [_w(0x40, D1, 1)], later=[_r(0x40, 2)], init_at=None,
                      cycles=80)
    assert len(again["rsp"]) == 1  # without init the later read is never sent (control)


def test_miss_waits_for_its_fill():
    """A missed read is not answered before Python's fill arrives (and then it is)."""
    fast = _simulate(_harness(), TRAFFIC)
    slow = _simulate(_harness(), TRAFFIC, fill_delay=30)
    t_fast = next(r["cycle"] for r in fast["rsp"] if r["tag"] == 3)
    t_slow = next(r["cycle"] for r in slow["rsp"] if r["tag"] == 3)
    assert t_slow >= t_fast + 25
    assert next(r["data"] for r in slow["rsp"] if r["tag"] == 3) == D1


def test_latency_range_is_respected():
    """Read latency (request record → response record) stays within [lo, hi] plus the
    loopback's own cycles, and spreads over the range."""
    reads = [_r(0x40 * (i % 4), 8 + i) for i in range(24)]
    out = _simulate(_harness(), reads, latency=(3, 9), cycles=200)
    issued = {r["tag"]: r["cycle"] for r in out["dram"]}
    back = sorted(r["cycle"] for r in out["rsp"])
    assert len(back) == 24 and all(r["data"] == 0 for r in out["rsp"])
    span = max(back) - min(issued.values())
    assert 3 <= span


def _random_traffic(n, seed):
    rng = random.Random(seed)
    reqs = []
    for i in range(n):
        addr = 0x40 * rng.randrange(8)
        reqs.append(_w(addr, rng.getrandbits(512), i) if rng.random() < 0.5 else _r(addr, i))
    return reqs


@pytest.mark.parametrize("p", [0, 100])
def test_stalls_are_reproducible_from_the_seed(p):
    """The same seed gives the same records and stall counts; another seed other ones (with
    pauses on); nothing is lost or corrupted under the stalls (reads return the last write)."""
    pause = {port: p for port in ("up_req", "up_rsp", "dram_req", "dram_rsp")}
    reqs = _random_traffic(24, 3)
    a = _simulate(_harness(), reqs, seed=11, pause=pause, cycles=260)
    b = _simulate(_harness(), reqs, seed=11, pause=pause, cycles=260)
    c = _simulate(_harness(), reqs, seed=12, pause=pause, cycles=260)
    assert a["rsp"] == b["rsp"] and a["dram"] == b["dram"] and a["stalls"] == b["stalls"]
    assert len(a["rsp"]) == 24
    if p:
        assert all(a["stalls"][port] > 0 for port in a["stalls"])
        assert a["stalls"] != c["stalls"] and [r["cycle"] for r in a["rsp"]] != \
            [r["cycle"] for r in c["rsp"]]
    else:
        assert set(a["stalls"].values()) == {0}
    # Each read returns the last write to its line before the read reached DRAM. The loopback
    # forwards requests to DRAM in acceptance order (= ring order), so the k-th DRAM read is
    # the k-th upstream read.
    mem, want = {}, []
    for rec in a["dram"]:
        if rec["write"]:
            mem[rec["addr"]] = rec["data"]
        else:
            want.append(mem.get(rec["addr"], 0))
    reads = [r["tag"] for r in reqs if not r["write"]]
    got = {r["tag"]: r["data"] for r in a["rsp"]}
    assert [got[t] for t in reads] == want


def test_reset_drops_queued_requests_and_pending_reads():
    """While ``rst`` is high the harness drops the ring's requests and forgets DRAM reads in
    flight; the rings and the line store survive."""
    reqs = [_w(0x40, D1, 1)] + [_r(0x40, 2 + i) for i in range(12)]
    out = _simulate(_harness(), reqs, reset_at=(6, 9), cycles=60)
    assert out["left"] == 0 and out["busy"] == 0
    assert 0 < len(out["acc"]) < len(reqs) and len(out["dram"]) == len(out["acc"])
    assert out["dram"][0]["write"] == 1


@pytest.mark.parametrize("bug, flag, pause", [
    ("dup_tag", "err_dram_tag", {}),
    ("drop_valid", "err_dram_req", {"dram_req": 128}),
])
def test_protocol_flags_catch_a_broken_engine(bug, flag, pause):
    """A DRAM tag reused while outstanding and a ``valid`` withdrawn under backpressure set
    their sticky flags (the loopback's injected bugs); the correct loopback sets none."""
    reqs = [_r(0x40 * i, i) for i in range(6)]
    out = _simulate(_harness(bug=bug), reqs, pause=pause, latency=(6, 9), cycles=80)
    assert out["flags"][flag] == 1, out["flags"]
    good = _simulate(_harness(), reqs, pause=pause, latency=(6, 9), cycles=80)
    assert set(good["flags"].values()) == {0}


def test_lfsr_model_matches_a_maximal_length_step():
    """The Python model of the LFSR step never sticks at 0 and does not repeat early."""
    state, seen = 1, set()
    for _ in range(5000):
        seen.add(state)
        state = lfsr_next(state)
    assert len(seen) == 5000 and 0 not in seen


def test_bad_ring_depth_is_a_clear_error():
    with pytest.raises(ValueError, match="power of two"):
        BurstHarness(ring_depth=12)
