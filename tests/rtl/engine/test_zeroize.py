"""Key hygiene of the whole engine in the Amaranth simulator (docs/security.md G2-G4).

The storage elements are enumerated from the elaborated design (tests/rtl/storage.py): every
register, every memory word, every memory read register. The test programs keys, runs
encrypted traffic, and resets the engine in the middle of it. Then:

- during the reset and the scrub after it, every input ``ready`` and every output ``valid``
  is low;
- once the ports open again, every storage element holds exactly what it held when the
  engine first opened its ports after power-on, before it ever saw a key, and every memory
  word is zero: nothing of the keys, tweaks or data survives the reset;
- throughout, every output payload is zero while its ``valid`` is low.
"""

import random

import pytest
from amaranth.sim import Simulator

from rtl.engine.engine import MEEngine
from rtl.engine.layouts import CfgStatus, KeyProgramCommand, KeyProgramStatus
from tests.rtl.storage import storage_of

from ._util import stream_get, stream_put

KEYID_BITS = 6
INPUTS = ("up_req", "dram_rsp", "kp_req", "cfg_req", "entropy")
OUTPUTS = ("up_rsp", "dram_req", "kp_rsp", "cfg_rsp")
DRAM_LATENCY = 12


def _addr(keyid, pa):
    return (keyid << (48 - KEYID_BITS)) | pa


def _int(value):
    """A simulator value (int, enum member or layout constant) as an int."""
    return value.as_value().value if hasattr(value, "as_value") else int(value)


def _snapshot(ctx, storage):
    regs = {name: ctx.get(sig.as_unsigned()) for name, sig in storage.registers.items()}
    mems = {name: [_int(ctx.get(mem[i])) for i in range(mem.depth)]
            for name, mem in storage.memories.items()}
    return regs, mems


@pytest.fixture(scope="module")
def reset_in_traffic():
    """One simulation shared by the tests below: what they check, recorded."""
    dut = MEEngine(sbox="table")
    storage = storage_of(dut)
    rng = random.Random(5)
    k1, k2 = rng.randrange(1 << 128), rng.randrange(1 << 128)
    state = {"resetting": False, "closed_cycles": 0, "idle_payload_errors": [],
             "open_during_reset": []}
    snapshots = []

    async def dram_and_monitor(ctx):
        due = []
        ctx.set(dut.dram_req.ready, 1)
        ctx.set(dut.up_rsp.ready, 1)
        lines = {}
        cycle = 0
        signals = [getattr(dut, p).valid for p in OUTPUTS] + [
            getattr(dut, p).payload for p in OUTPUTS] + [
            getattr(dut, p).ready for p in INPUTS] + [storage.domain.rst]
        async for _clk, _rst, *values in ctx.tick().sample(
                dut.dram_req.payload, dut.dram_rsp.valid, dut.dram_rsp.ready, *signals):
            q, r_valid, r_ready = values[:3]
            valids = values[3:3 + len(OUTPUTS)]
            payloads = values[3 + len(OUTPUTS):3 + 2 * len(OUTPUTS)]
            readies = values[3 + 2 * len(OUTPUTS):-1]
            cycle += 1
            for name, valid, payload in zip(OUTPUTS, valids, payloads, strict=True):
                if not valid and payload.as_value().value != 0:
                    state["idle_payload_errors"].append((cycle, name))
            rst = values[-1]
            if state["resetting"] and not rst and readies[INPUTS.index("kp_req")]:
                state["resetting"] = False               # the ports open again
            if state["resetting"]:
                if any(valids) or any(readies):
                    state["open_during_reset"].append(
                        (cycle, [p for p, v in zip(OUTPUTS, valids, strict=True) if v]
                         + [p for p, r in zip(INPUTS, readies, strict=True) if r]))
                state["closed_cycles"] += 1
                due.clear()
                ctx.set(dut.dram_rsp.valid, 0)
                continue
            if valids[1] and q.write:
                lines[q.addr] = q.data
            elif valids[1]:
                due.append([cycle + DRAM_LATENCY, q.tag, lines.get(q.addr, 0)])
            if r_valid and r_ready:
                due.pop(0)
            if due and due[0][0] <= cycle:
                ctx.set(dut.dram_rsp.valid, 1)
                ctx.set(dut.dram_rsp.payload, {"tag": due[0][1], "data": due[0][2]})
            else:
                ctx.set(dut.dram_rsp.valid, 0)

    async def body(ctx):
        await ctx.tick().until(dut.kp_req.ready)          # first opened after power-on
        snapshots.append(_snapshot(ctx, storage))
        ctx.set(dut.entropy.valid, 1)
        ctx.set(dut.entropy.payload, rng.randrange(1 << 256))
        await stream_put(ctx, dut.cfg_req, {"addr": 0, "write": 1,
                                            "data": (1 << 1) | (KEYID_BITS << 32) | (1 << 48)})
        assert (await stream_get(ctx, dut.cfg_rsp)).status == CfgStatus.OK
        ctx.set(dut.entropy.valid, 0)
        await stream_put(ctx, dut.kp_req, {"keyid": 5, "enc_alg": 1, "key1": k1, "key2": k2,
                                           "command": KeyProgramCommand.SET_KEY_DIRECT})
        assert (await stream_get(ctx, dut.kp_rsp)).status == KeyProgramStatus.PROG_SUCCESS
        # Writes and reads under KeyID 5 and the TME key (KeyID 0), back to back, then a
        # reset while lines are in the queues, the tweak unit and both AES directions.
        for n in range(24):
            keyid = 5 if n % 2 else 0
            pa = 0x1000 + 64 * (n % 6)
            write = n < 12 or n % 3 == 0
            await stream_put(ctx, dut.up_req, {"addr": _addr(keyid, pa), "write": write,
                                               "tag": n, "data": rng.randrange(1 << 512),
                                               "asid": 0})
        ctx.set(dut.up_req.valid, 1)                       # still offered through the reset
        ctx.set(dut.up_req.payload, {"addr": _addr(5, 0x2000), "write": 1, "tag": 99,
                                     "data": rng.randrange(1 << 512), "asid": 0})
        await ctx.tick().repeat(DRAM_LATENCY + 3)
        state["resetting"] = True
        ctx.set(storage.domain.rst, 1)
        for _ in range(2):
            await ctx.tick()           # a bare tick: .repeat() would raise DomainReset
        ctx.set(storage.domain.rst, 0)
        ctx.set(dut.up_req.valid, 0)
        await ctx.tick().until(dut.kp_req.ready)
        snapshots.append(_snapshot(ctx, storage))

    sim = Simulator(storage.fragment)
    sim.add_clock(1e-6, domain=storage.domain)
    sim.add_testbench(dram_and_monitor, background=True)
    sim.add_testbench(body)
    sim.run()

    return dut, state, snapshots


def test_ports_closed_during_reset_and_scrub(reset_in_traffic):
    dut, state, _ = reset_in_traffic
    assert state["closed_cycles"] >= dut.slots, "the scrub should keep the ports closed"
    assert not state["open_during_reset"], (
        f"ports open during reset or scrub (cycle, ports): {state['open_during_reset'][:5]}")


def test_payloads_are_zero_while_valid_is_low(reset_in_traffic):
    _, state, _ = reset_in_traffic
    assert not state["idle_payload_errors"], (
        f"payload not zero while valid low (cycle, port): {state['idle_payload_errors'][:5]}")


def test_reset_restores_the_power_on_storage(reset_in_traffic):
    _, _, ((fresh_regs, fresh_mems), (regs, mems)) = reset_in_traffic
    changed = [name for name in fresh_regs if regs[name] != fresh_regs[name]]
    assert not changed, f"{len(changed)} registers not back to their power-on value: {changed[:8]}"
    dirty = {name: sum(w != 0 for w in words) for name, words in mems.items() if any(words)}
    assert not dirty, f"memory words not zeroed (memory: words): {dirty}"
    assert fresh_mems == mems
