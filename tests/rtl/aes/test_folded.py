"""The 2:1 folded AES-128 encryption in the Amaranth simulator: FIPS-197 and random blocks
with a new key on every block, offered on every cycle (so ``ready`` throttles them), in
bubbles, with tags; the latency of every block and the sustained rate."""

import random

import pytest
from amaranth.sim import Simulator

from rtl.aes import reference as ref
from rtl.aes.folded import AESEncryptFolded

from .test_pipeline import FIPS, _le


def run_folded(dut, jobs, offer):
    """Offer ``jobs[k] = (block, key, tag)`` in order on cycles where ``offer(cycle)``;
    return ``[(latency, block, tag)]`` and the cycle of the last transfer on ``i``."""
    out, entered, pending = [], {}, list(jobs)
    last = {}

    async def tb(ctx):
        for cycle in range(6 * len(jobs) + dut.latency + 4):
            offering = bool(pending) and offer(cycle)
            if offering:
                block, key, tag = pending[0]
                ctx.set(dut.i.payload, {"block": block, "key": key, "tag": tag})
            ctx.set(dut.i.valid, offering)
            took = offering and ctx.get(dut.i.ready)
            if ctx.get(dut.o.valid):
                tag = ctx.get(dut.o.payload.tag)
                out.append((cycle - entered[tag], ctx.get(dut.o.payload.block), tag))
            await ctx.tick()
            if took:
                entered[pending.pop(0)[2]] = cycle
                last["cycle"] = cycle

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return out, last.get("cycle")


@pytest.mark.parametrize("regs_per_round", [2, 3])
@pytest.mark.parametrize("offer", ["every_cycle", "bubbles"])
def test_folded_fips_and_random(offer, regs_per_round):
    dut = AESEncryptFolded(tag_width=8, regs_per_round=regs_per_round)
    rng = random.Random(11)
    cases = [(_le(p), _le(k)) for k, p, c in FIPS]
    cases += [(rng.getrandbits(128), rng.getrandbits(128)) for _ in range(40)]
    jobs = [(p, k, n) for n, (p, k) in enumerate(cases)]
    pattern = (lambda c: True) if offer == "every_cycle" else (lambda c: c % 5 in (0, 3))
    out, last = run_folded(dut, jobs, pattern)
    assert [t for _, _, t in out] == list(range(len(jobs))), "lost or reordered blocks"
    assert {lat for lat, _, _ in out} == {dut.latency}
    for _lat, block, tag in out:
        p, k = cases[tag]
        assert block == ref.encrypt_block(p, k), f"block {tag}"
    assert out[0][1] == _le(FIPS[0][2]) and out[1][1] == _le(FIPS[1][2])
    if offer == "every_cycle":
        # Sustained: one block every two cycles (a few more in the first 10 or 15 cycles,
        # while no block is on its second pass yet).
        assert last <= 2 * len(jobs)


def test_folded_wrong_reference_is_caught():
    dut = AESEncryptFolded(tag_width=8)
    out, _ = run_folded(dut, [(1, 2, 0)], lambda c: True)
    with pytest.raises(AssertionError):
        assert out[0][1] == ref.encrypt_block(1, 3)


def test_folded_parameters():
    with pytest.raises(ValueError, match="sbox"):
        AESEncryptFolded(sbox="table")
    dut = AESEncryptFolded(tag_width=3)
    dut._MustUse__silence = True
    assert (dut.latency, dut.interval) == (20, 2)
    assert not dut.signature.members["i"].signature.always_ready
    with pytest.raises(ValueError, match="regs_per_round"):
        AESEncryptFolded(regs_per_round=1)
    three = AESEncryptFolded(regs_per_round=3)
    three._MustUse__silence = True
    assert (three.latency, three.interval) == (30, 2)
