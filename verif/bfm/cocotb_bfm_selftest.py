"""cocotb self-tests of the BFMs against ``tests/sim/bfm_loopback.py`` (not collected by pytest).

Environment knobs (set by ``tests/sim/test_bfm.py``):

- ``LOOPBACK_BUG``: the loopback was built with this injected fault; only the matching
  ``*_detected`` test runs and it passes only if the BFM checker caught the fault.
- ``N_OPS``: number of random upstream operations in the traffic tests (default 300).
"""

import os
import random

import cocotb
from cocotb.triggers import ClockCycles, ReadOnly, RisingEdge

from verif.bfm import StreamBus, StreamMonitor, cycle_pause, golden_words
from verif.engine_tb import UP_REQ_FIELDS, EngineTB

BUG = os.environ.get("LOOPBACK_BUG", "")
N_OPS = int(os.environ.get("N_OPS", "300"))
LINES = [0x1000 + 64 * i for i in range(8)]  # few lines: many same-line hazards


async def _traffic(tb, rng, n_ops, *, bad_fraction=0.05):
    """Random reads/writes, many in flight; checks data, errors and DRAM contents."""
    model = {}
    expected = []
    for _ in range(n_ops):
        roll = rng.random()
        addr = rng.choice(LINES) | (rng.getrandbits(8) << 48)  # bits above PA are dropped
        if roll < bad_fraction:
            pending = await tb.issue(addr | 0x8, rng.random() < 0.5, rng.getrandbits(512))
            expected.append((pending, "bad", None))
        elif roll < 0.5:
            data = rng.getrandbits(512)
            pending = await tb.issue(addr, True, data)
            model[addr & ((1 << 48) - 1)] = data
            expected.append((pending, "write", None))
        else:
            pending = await tb.issue(addr, False)
            expected.append((pending, "read", model.get(addr & ((1 << 48) - 1), 0)))
        if rng.random() < 0.05:
            await tb.drain()
    await tb.drain()
    for pending, kind, want in expected:
        rsp = pending.response
        assert rsp.tag == pending.request.tag
        if kind == "bad":
            assert rsp.error == 1 and rsp.data == 0, f"bad address not flagged: {rsp}"
        elif kind == "write":
            assert rsp.error == 0 and rsp.data == 0, rsp
        else:
            assert rsp.error == 0, rsp
            assert rsp.data == want, f"read {pending.request.addr:#x}: got {rsp.data:#x}"
        assert rsp.cycle > pending.request.cycle, "response before its request was accepted"
    n_bad = sum(1 for _, k, _ in expected if k == "bad")
    assert len(tb.dram.requests) == n_ops - n_bad, "bad-address requests must not reach DRAM"
    assert all(r.addr & 0x3F == 0 and r.addr < 1 << 48 for r in tb.dram.requests)
    for addr, data in model.items():
        assert tb.dram.read(addr) == data, f"DRAM line {addr:#x}"
    tb.check_quiescent()
    return expected


@cocotb.test(skip=bool(BUG))
async def traffic_backpressure_out_of_order(dut):
    """Random traffic with random backpressure on every port and out-of-order DRAM reads."""
    rng = random.Random(random.getrandbits(32))
    tb = EngineTB(dut, dram_latency=(1, 30), out_of_order=True)
    tb.set_backpressure(rng, 0.3)
    await tb.reset()
    await _traffic(tb, rng, N_OPS)
    order = [r.tag for r in tb.dram.responses]
    issue = [r.tag for r in tb.dram.requests if not r.write]
    assert order != issue, "out_of_order=True never reordered a DRAM response"


@cocotb.test(skip=bool(BUG))
async def traffic_in_order_full_rate(dut):
    """No pauses, in-order DRAM: checks order and that back-to-back transfers happen."""
    rng = random.Random(random.getrandbits(32))
    tb = EngineTB(dut, dram_latency=(3, 3), out_of_order=False)
    await tb.reset()
    # Writes only, queued up front: the loopback accepts one per cycle.
    pendings = [await tb.issue(LINES[i % 8], True, rng.getrandbits(512)) for i in range(64)]
    await tb.drain()
    cycles = [p.request.cycle for p in pendings]
    assert cycles == list(range(cycles[0], cycles[0] + 64)), f"bubbles: {cycles}"
    reads = [await tb.issue(a, False) for a in LINES]
    await tb.drain()
    assert [r.response.cycle for r in reads] == sorted(r.response.cycle for r in reads)
    assert [r.tag for r in tb.dram.responses] == [r.tag for r in tb.dram.requests if not r.write]
    tb.check_quiescent()


@cocotb.test(skip=bool(BUG))
async def pause_generators(dut):
    """Fixed pause patterns show up as exact gaps on the wires (source gaps, sink stalls)."""
    tb = EngineTB(dut, dram_latency=(2, 2), out_of_order=False)
    tb.up_req.set_pause_generator(cycle_pause([0, 1, 1]))  # one request every 3 cycles
    await tb.reset()
    pendings = [await tb.issue(LINES[i % 8], True, i) for i in range(12)]
    await tb.drain()
    cycles = [p.request.cycle for p in pendings]
    assert all(b - a == 3 for a, b in zip(cycles, cycles[1:], strict=False)), cycles
    tb.up_req.clear_pause_generator()
    tb.dram.set_req_pause(cycle_pause([1, 1, 1, 0]))  # DRAM ready one cycle in four
    start = len(tb.dram.requests)
    pendings = [await tb.issue(LINES[i % 8], True, i) for i in range(12)]
    await tb.drain()
    dcycles = [r.cycle for r in tb.dram.requests[start:]]
    assert all(b - a >= 4 for a, b in zip(dcycles, dcycles[1:], strict=False)), dcycles
    tb.check_quiescent()


@cocotb.test(skip=bool(BUG))
async def command_ports_and_entropy(dut):
    """Key-program and config helpers; entropy words in golden order; entropy switched off."""
    tb = EngineTB(dut, entropy_seed=7)
    await tb.reset()
    assert await tb.program_key(1, 0, key1=b"\x01" * 16, key2=5) == 0
    assert await tb.program_key(0, 0) == 3
    assert await tb.program_key(2, 9) == 1
    words = golden_words(7)
    expected = [next(words) for _ in range(3)]
    for want in expected[:2]:
        assert await tb.program_key(3, 1) == 0
        assert await tb.config_read(7) == (0, want & (2**64 - 1))
    await tb.entropy.set_available(False)
    assert await tb.program_key(3, 1) == 2, "no entropy must give ENTROPY_ERROR"
    assert tb.entropy.consumed == expected[:2]
    await tb.entropy.set_available(True)
    assert await tb.program_key(3, 1) == 0
    assert tb.entropy.consumed == expected
    assert await tb.config_write(2, 0x1234) == (0, 0x1234)
    assert await tb.config_read(2) == (0, 0x1234)
    assert (await tb.config_write(7, 1))[0] == 2
    # Commands overlapping with upstream traffic: the lock serialises the helpers.
    results = await cocotb.triggers.gather(tb.program_key(4, 0), tb.config_read(2),
                                           tb.write_line(LINES[0], 99))
    assert results[0] == 0 and results[1] == (0, 0x1234) and results[2].error == 0
    tb.check_quiescent()


@cocotb.test(skip=bool(BUG))
async def monitor_flags_protocol_violations(dut):
    """The lib.stream checker fires on a dropped valid and on a payload change (can fail)."""
    tb = EngineTB(dut, strict=False)  # requests driven by hand are unknown to the TB
    await tb.reset()
    tb.up_req.stop()
    mon = StreamMonitor(StreamBus(dut, "up_req", UP_REQ_FIELDS), dut.clk, raise_on_error=False)
    tb.dram.set_req_pause(cycle_pause([1]))  # DRAM never ready: up_req_ready drops
    dut.up_req_valid.value = 1
    dut.up_req_write.value = 1
    dut.up_req_addr.value = LINES[0]
    dut.up_req_tag.value = 1
    await RisingEdge(dut.clk)   # first write accepted into the loopback's DRAM register
    dut.up_req_tag.value = 2
    await RisingEdge(dut.clk)
    await ReadOnly()
    assert dut.up_req_ready.value == 0
    await RisingEdge(dut.clk)
    dut.up_req_addr.value = LINES[1]  # payload change while not ready
    await ClockCycles(dut.clk, 2)
    dut.up_req_valid.value = 0  # drop without transfer
    await ClockCycles(dut.clk, 2)
    assert any("payload changed" in e for e in mon.errors), mon.errors
    assert any("valid dropped" in e for e in mon.errors), mon.errors
    assert mon.received == 1


@cocotb.test(skip=BUG != "dup_tag")
async def dup_tag_detected(dut):
    """The DRAM model flags a read tag reused while outstanding (loopback built with the bug)."""
    tb = EngineTB(dut, dram_latency=(20, 20), strict=False)  # the bug also mixes up tags
    tb.dram.raise_on_error = False
    await tb.reset()
    for a in LINES[:2]:
        await tb.issue(a, False)
    await ClockCycles(dut.clk, 40)
    assert any("reused while outstanding" in e for e in tb.dram.errors), tb.dram.errors


@cocotb.test(skip=BUG != "drop_valid")
async def drop_valid_detected(dut):
    """The DRAM request sink flags a dram_req_valid withdrawn before the transfer."""
    tb = EngineTB(dut)
    tb.dram.req_sink.raise_on_error = False
    tb.dram.set_req_pause(cycle_pause([1, 1, 0]))
    await tb.reset()
    await tb.issue(LINES[0], True, 1)
    await ClockCycles(dut.clk, 10)
    assert any("valid dropped" in e for e in tb.dram.req_sink.errors), tb.dram.req_sink.errors


@cocotb.test(skip=BUG != "rsp_tag")
async def rsp_tag_detected(dut):
    """The TB flags an upstream response whose tag is not outstanding."""
    tb = EngineTB(dut, strict=False)
    await tb.reset()
    await tb.issue(LINES[0], False, tag=4)
    await ClockCycles(dut.clk, 30)
    assert any("tag 5 that is not outstanding" in e for e in tb.errors), tb.errors
    try:
        tb.check_quiescent()
    except AssertionError:
        pass
    else:
        raise AssertionError("check_quiescent accepted a wrong-tag response")
