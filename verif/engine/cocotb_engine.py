"""Directed cocotb tests of ``mee_engine`` (issue item 8; not collected by pytest).

Every test drives the engine through :class:`verif.engine_tb.EngineTB` and checks it two
ways: against values written down from ``docs/architecture.md`` (statuses, error codes,
ciphertexts computed with ``cryptography``/``golden_model.xts``), and against the golden
model run in lock-step by :class:`Mirror` (same entropy stream), which must agree on every
status, register value, response and DRAM write.

Environment knobs: ``N_OPS`` (random-traffic length, default 120; the backpressure tests use
half of it, the key-change test ``min(64, N_OPS // 2)`` lines).
"""

import os
import random

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge

from golden_model.config import ConfigReg
from golden_model.engine import Engine, EngineParams, Request
from golden_model.entropy import EntropySource
from golden_model.keytable import KeyProgramCommand
from golden_model.xts import xts_decrypt_line, xts_encrypt_line
from sim.cocotb_utils import write_stats
from verif.bfm import cycle_pause, random_pause
from verif.engine_tb import EngineTB

N_OPS = int(os.environ.get("N_OPS", "120"))
SEED = 11
PA = 48
ENABLE, LOCK, BYPASS = 1 << 1, 1 << 0, 1 << 31
ALGS_XTS128 = 1 << 48
SYSCFG_SME = 1 << 23
C_BIT = 1 << 47
HOST = 63
SET, RANDOM, CLEAR, NOENC = 0, 1, 2, 3


def tme(keyid_bits=6, extra=0):
    """A TME_ACTIVATE value: ENABLE, KEYID_BITS, ALGS = AES-XTS-128."""
    return ENABLE | (keyid_bits << 32) | ALGS_XTS128 | extra


def keyid_addr(keyid, line, k=6):
    """Intel PA with *keyid* in the top *k* bits of the 48-bit PA."""
    return (keyid << (PA - k)) | line


def as_int(data: bytes) -> int:
    return int.from_bytes(data, "little")


def as_bytes(value: int) -> bytes:
    return value.to_bytes(64, "little")


_CHECKED = 0  # responses and DRAM lines the Mirror checked in this run


class Mirror:
    """Runs the golden model beside the RTL and asserts they agree on everything.

    Requests are predicted at issue time: the upstream source is a FIFO, so issue order is
    acceptance order, and a same-line read sees exactly the writes accepted before it
    (architecture §5). Do not issue requests while a key-program command is in flight
    through the mirror (the key-change test predicts those by hand).
    """

    def __init__(self, tb: EngineTB, seed: int = SEED) -> None:
        self.tb = tb
        self.model = Engine(EngineParams(), EntropySource(seed=seed))
        self.expected = []  # (PendingRequest, predicted Response) since the last check
        self._mark = 0  # index in tb.dram.writes where the current batch starts

    async def config(self, reg, value=None):
        write = value is not None
        got = await (self.tb.config_write(reg, value) if write else self.tb.config_read(reg))
        want = self.model.config_access(int(reg), write, value or 0)
        assert got == (int(want[0]), want[1]), (
            f"config {'write' if write else 'read'} reg {int(reg)} value {value}: RTL {got}, "
            f"model {(want[0].name, want[1])}")
        self.check_entropy()
        return got

    async def program(self, keyid, command, key1=0, key2=0, enc_alg=1):
        got = await self.tb.program_key(keyid, command, key1, key2, enc_alg)
        want = self.model.key_program(KeyProgramCommand(keyid, command, enc_alg, key1, key2))
        assert got == want, f"key program {keyid}/{command}/{enc_alg:#x}: RTL {got}, model {want!r}"
        self.check_entropy()
        return got

    async def set_entropy(self, available):
        await self.tb.entropy.set_available(available)
        self.model.entropy.available = available

    def check_entropy(self):
        assert len(self.tb.entropy.consumed) == self.model.entropy.words_drawn, (
            f"RTL took {len(self.tb.entropy.consumed)} entropy words, "
            f"model {self.model.entropy.words_drawn}")

    async def issue(self, addr, write, data=0, asid=0):
        if not self.expected:
            self._mark = len(self.tb.dram.writes)
        pending = await self.tb.issue(addr, write, data, asid)
        req = Request(addr, bool(write), asid, as_bytes(data) if write else None,
                      pending.request.tag)
        self.expected.append((pending, self.model.request(req)))
        return pending

    async def check(self):
        """Wait for every response; compare responses and the DRAM write stream."""
        await self.tb.drain()
        dram_writes = {}
        for pending, want in self.expected:
            got = pending.response
            where = f"{'write' if pending.request.write else 'read'} {pending.request.addr:#x}"
            assert got.error == want.error, f"{where}: error {got.error}, model {want.error!r}"
            assert got.data == as_int(want.data), f"{where}: data differs from the model"
            if want.dram is not None and want.dram.write:
                dram_writes.setdefault(want.dram.addr, []).append(as_int(want.dram.data))
        seen = {}
        for rec in self.tb.dram.writes[self._mark:]:
            seen.setdefault(rec.addr, []).append(rec.data)
        assert seen.keys() == dram_writes.keys(), "DRAM write addresses differ from the model"
        for addr, datas in dram_writes.items():
            assert seen[addr] == datas, f"DRAM writes to {addr:#x} differ from the model"
        global _CHECKED
        _CHECKED += len(self.expected) + sum(len(d) for d in dram_writes.values())
        write_stats(_CHECKED)  # responses + DRAM writes checked so far in this run
        self.expected = []
        self.tb.check_quiescent()


async def setup(dut, **kw):
    tb = EngineTB(dut, entropy_seed=SEED, **kw)
    await tb.reset()
    return tb, Mirror(tb)


def tme_key(word_index=0, seed=SEED):
    word = EntropySource(seed=seed).word(word_index)
    return word & ((1 << 128) - 1), word >> 128


@cocotb.test()
async def encrypt_decrypt_intel(dut):
    """TME-MK: KeyIDs with direct keys, the TME key (KeyID 0), NO_ENCRYPT, bypass, exclusion."""
    tb, m = await setup(dut)
    rng = random.Random(1)
    # TME disabled after reset: plaintext.
    pt = rng.getrandbits(512)
    assert (await tb.write_line(0x40, pt)).error == 0
    assert tb.dram.writes[-1].data == pt and tb.dram.writes[-1].addr == 0x40
    await m.config(ConfigReg.TME_ACTIVATE, tme())
    keys = {}
    for keyid in (1, 2, 63):
        keys[keyid] = (rng.randbytes(16), rng.randbytes(16))
        assert await m.program(keyid, SET, *keys[keyid]) == 0
    assert await m.program(5, NOENC) == 0
    t1, t2 = tme_key(0)
    for keyid, line in [(1, 0x1000), (2, 0x1000), (63, 0x3FF_FFFF_FFC0), (0, 0x2000),
                        (5, 0x3000), (7, 0x4000)]:
        data = rng.getrandbits(512)
        rsp = await tb.write_line(keyid_addr(keyid, line), data)
        assert rsp.error == 0 and rsp.data == 0
        rec = tb.dram.writes[-1]
        assert rec.addr == line, f"KeyID bits must be stripped: {rec.addr:#x}"
        if keyid in keys:
            k1, k2 = keys[keyid]
        elif keyid in (0, 7):  # KeyID 0 and an EMPTY slot use the TME key
            k1, k2 = t1.to_bytes(16, "little"), t2.to_bytes(16, "little")
        else:
            k1 = None
        want = (data if k1 is None else as_int(xts_encrypt_line(k1, k2, line, as_bytes(data))))
        assert rec.data == want, f"KeyID {keyid}: DRAM line is not the expected ciphertext"
        back = await tb.read_line(keyid_addr(keyid, line))
        assert back.error == 0 and back.data == data, f"KeyID {keyid}: read-back differs"
    # Same line through another KeyID: ciphertext decrypted with the wrong key.
    back = await tb.read_line(keyid_addr(2, 0x1000))
    assert back.data != 0 and back.error == 0
    # A line DRAM holds that was never written through the engine decrypts as XTS says.
    tb.dram.write(0x5000, 0x1234)
    back = await tb.read_line(keyid_addr(1, 0x5000))
    assert back.data == as_int(xts_decrypt_line(*keys[1], 0x5000, as_bytes(0x1234)))
    tb.check_quiescent()


@cocotb.test()
async def bypass_and_exclusion_intel(dut):
    """TME BYPASS and the exclusion range make KeyID 0 plaintext; model agrees on all of it."""
    tb, m = await setup(dut)
    await m.config(ConfigReg.EXCLUDE_MASK, ((1 << 48) - (1 << 20)) | (1 << 11))
    await m.config(ConfigReg.EXCLUDE_BASE, 0x300000)
    await m.config(ConfigReg.TME_ACTIVATE, tme())
    await m.program(1, SET, 3, 4)
    for addr in (0x300000, 0x3FFFC0, 0x400000, keyid_addr(1, 0x300000)):
        await m.issue(addr, True, addr * 7 + 1)
        await m.issue(addr, False)
    await m.check()
    # The last write to line 0x300000 went through KeyID 1 (the exclusion range applies to
    # KeyID 0 only), so check each DRAM write, not the final memory contents.
    by_line = {}
    for rec in tb.dram.writes:
        by_line.setdefault(rec.addr, []).append(rec.data)
    assert by_line[0x300000][0] == 0x300000 * 7 + 1, "excluded range must be plaintext"
    assert by_line[0x3FFFC0] == [0x3FFFC0 * 7 + 1], "excluded range must be plaintext"
    assert by_line[0x400000] != [0x400000 * 7 + 1], "outside the range: TME key"
    assert by_line[0x300000][1] != keyid_addr(1, 0x300000) * 7 + 1, (
        "KeyID 1 is encrypted inside the exclusion range")
    await m.config(ConfigReg.TME_ACTIVATE, tme(extra=BYPASS))
    await m.issue(0x400000, True, 5)
    await m.issue(keyid_addr(1, 0x400040), True, 6)
    await m.check()
    assert tb.dram.mem[0x400000] == 5, "BYPASS must make KeyID 0 plaintext"


@cocotb.test()
async def encrypt_decrypt_amd(dut):
    """SME/TSME/SEV: C-bit host key, guest ASID keys, C=0 plaintext, TSME; checked by XTS."""
    tb, m = await setup(dut)
    rng = random.Random(2)
    await m.config(ConfigReg.MODE, 1)
    await m.config(ConfigReg.SYSCFG, SYSCFG_SME)
    host = (rng.randbytes(16), rng.randbytes(16))
    guest = (rng.randbytes(16), rng.randbytes(16))
    assert await m.program(HOST, SET, *host) == 0
    assert await m.program(9, SET, *guest) == 0
    cases = [(C_BIT | 0x1000, 0, host), (C_BIT | 0x2000, 9, guest), (0x3000, 0, None),
             (0x3040, 9, None)]  # C=0: plaintext even for a guest ASID
    for addr, asid, keys in cases:
        data = rng.getrandbits(512)
        assert (await tb.write_line(addr, data, asid=asid)).error == 0
        rec = tb.dram.writes[-1]
        line = addr & (C_BIT - 1)
        assert rec.addr == line
        want = data if keys is None else as_int(xts_encrypt_line(*keys, line, as_bytes(data)))
        assert rec.data == want, f"{addr:#x}/ASID {asid}: wrong DRAM line"
        assert (await tb.read_line(addr, asid=asid)).data == data
    await m.config(ConfigReg.TSME, 1)
    await m.issue(0x5000, True, 77)
    await m.issue(0x5000, False)
    await m.check()
    assert tb.dram.mem[0x5000] == as_int(xts_encrypt_line(*host, 0x5000, as_bytes(77)))


@cocotb.test()
async def key_program_statuses(dut):
    """Every key-program status, in the architecture's check order, and its effect."""
    tb, m = await setup(dut)
    assert await m.program(1, SET, 1, 2) == 3, "TME disabled: no KeyID is valid"
    await m.config(ConfigReg.TME_ACTIVATE, tme(keyid_bits=3))
    assert await m.program(1, 4, 1, 2) == 1, "command > 3: INVALID_PROG_CMD"
    assert await m.program(0, 9) == 1, "command is checked before the KeyID"
    assert await m.program(0, SET) == 3
    assert await m.program(8, SET) == 3, "KeyID > 2^k-1"
    assert await m.program(64, SET) == 3, "KeyID >= SLOTS"
    for alg in (0, 4, 3, 1 << 15):
        assert await m.program(1, SET, 1, 2, enc_alg=alg) == 4, f"enc_alg {alg:#x}"
    assert await m.program(1, CLEAR, enc_alg=4) == 4, "ENC_ALG is checked for CLEAR too"
    assert await m.program(1, NOENC, enc_alg=0) == 4
    await m.set_entropy(False)
    assert await m.program(2, RANDOM, 1, 2) == 2, "no entropy: ENTROPY_ERROR"
    assert await m.program(2, SET, 1, 2) == 0, "only SET_KEY_RANDOM needs entropy"
    await m.set_entropy(True)
    sw1, sw2 = 0x1111, 0x2222
    word = tb.entropy.peek()
    assert await m.program(3, RANDOM, sw1, sw2) == 0
    k1, k2 = sw1 ^ (word & ((1 << 128) - 1)), sw2 ^ (word >> 128)
    assert (await tb.write_line(keyid_addr(3, 0x80, 3), 42)).error == 0
    assert tb.dram.writes[-1].data == as_int(
        xts_encrypt_line(k1.to_bytes(16, "little"), k2.to_bytes(16, "little"), 0x80,
                         as_bytes(42))), "SET_KEY_RANDOM key must be software key ^ entropy"
    # CLEAR makes the slot EMPTY (TME key), NO_ENCRYPT plaintext.
    assert await m.program(3, CLEAR) == 0
    assert await m.program(2, NOENC) == 0
    await m.issue(keyid_addr(3, 0xC0, 3), True, 1)
    await m.issue(keyid_addr(2, 0x100, 3), True, 2)
    await m.check()
    assert tb.dram.mem[0x100] == 2
    # AMD mode: any KeyID 1..SLOTS-1 is valid, no ALGS check.
    await m.config(ConfigReg.MODE, 1)
    assert await m.program(63, SET, 5, 6) == 0
    assert await m.program(64, SET, 5, 6) == 3
    # KT_LOCK: DEVICE_BUSY after the earlier checks, and sticky until reset.
    await m.config(ConfigReg.KT_LOCK, 1)
    assert await m.program(1, SET, 1, 2) == 5, "KT_LOCK: DEVICE_BUSY"
    assert await m.program(1, 4) == 1, "command check precedes the lock"
    assert (await m.config(ConfigReg.KT_LOCK, 0)) == (1, 1), "KT_LOCK cannot be cleared"
    assert await m.program(1, SET, 1, 2) == 5, "still locked"


@cocotb.test()
async def config_statuses(dut):
    """Every config status: OK, INVALID (address, reserved bit, KEYID_BITS), ENTROPY_ERROR, LOCKED."""
    tb, m = await setup(dut)
    for reg in range(16):
        await m.config(reg)  # reads: OK with the value, INVALID above 6
    assert (await tb.config_read(7))[0] == 2 and (await tb.config_read(15))[0] == 2
    assert (await m.config(9, 0))[0] == 2
    assert (await m.config(ConfigReg.TME_ACTIVATE, 1 << 5))[0] == 2, "reserved bit"
    assert (await m.config(ConfigReg.TME_ACTIVATE, tme(keyid_bits=7)))[0] == 2
    assert (await m.config(ConfigReg.SYSCFG, 1))[0] == 2
    assert (await m.config(ConfigReg.EXCLUDE_MASK, 1 << 48))[0] == 2, "above PA_WIDTH"
    await m.set_entropy(False)
    assert (await m.config(ConfigReg.TME_ACTIVATE, tme()))[0] == 3, "ENABLE needs entropy"
    assert (await m.config(ConfigReg.TME_ACTIVATE))[1] == 0, "refused write changes nothing"
    await m.set_entropy(True)
    assert (await m.config(ConfigReg.TME_ACTIVATE, tme()))[0] == 0
    assert (await m.config(ConfigReg.TME_ACTIVATE, tme(extra=LOCK))) == (0, tme(extra=LOCK))
    for reg in (ConfigReg.TME_ACTIVATE, ConfigReg.EXCLUDE_MASK, ConfigReg.EXCLUDE_BASE,
                ConfigReg.MODE):
        assert (await m.config(reg, 0))[0] == 1, f"{reg.name} must be LOCKED"
    assert (await m.config(ConfigReg.TME_ACTIVATE, 1 << 5))[0] == 2, "INVALID precedes LOCKED"
    for reg, value in ((ConfigReg.SYSCFG, SYSCFG_SME), (ConfigReg.TSME, 1),
                       (ConfigReg.KT_LOCK, 1)):
        assert (await m.config(reg, value)) == (0, value), f"{reg.name} stays writable"
    await tb.reset()
    m.model.reset()
    for reg in range(7):
        assert (await m.config(reg)) == (0, 0), "reset clears every register, LOCK included"


@cocotb.test()
async def error_responses_leave_dram_untouched(dut):
    """BAD_ADDRESS, BAD_KEYID, NO_KEY: zero data, no DRAM access, reads and writes."""
    tb, m = await setup(dut)
    await m.config(ConfigReg.TME_ACTIVATE, tme())
    intel_bad = [(0x1001, 0, 1), (0x1020, 0, 1), (1 << 48, 0, 1), (1 << 63, 0, 1)]
    for addr, asid, err in intel_bad:
        for write in (True, False):
            rsp = await tb.request(addr, write, 0xAB if write else 0, asid)
            assert (rsp.error, rsp.data) == (err, 0), f"{addr:#x}: {rsp}"
    await m.config(ConfigReg.MODE, 1)
    await m.config(ConfigReg.SYSCFG, SYSCFG_SME)
    amd_bad = [(1 << 48, 0, 1), (C_BIT | 0x41, 0, 1), (C_BIT | 0x40, 63, 2),
               (C_BIT | 0x40, 62, 3), (C_BIT | 0x80, 0, 3)]
    for addr, asid, err in amd_bad:
        for write in (True, False):
            rsp = await tb.request(addr, write, 0xCD if write else 0, asid)
            assert (rsp.error, rsp.data) == (err, 0), f"{addr:#x}/ASID {asid}: {rsp}"
    assert tb.dram.requests == [], "an errored request reached DRAM"
    # The model agrees on each of them.
    for addr, asid, _ in amd_bad:
        await m.issue(addr, False, asid=asid)
    await m.check()
    tb.check_quiescent()


@cocotb.test()
async def stray_dram_response(dut):
    """DRAM responses carrying tags the engine never sent are dropped at once and set the sticky
    ``err_dram_rsp_tag``; the traffic around them is still answered exactly as the model says."""
    tb, m = await setup(dut, dram_latency=(2, 12))
    assert int(dut.err_dram_rsp_tag.value) == 0
    rng = random.Random(11)
    await _random_traffic(tb, m, rng, 8)
    assert int(dut.err_dram_rsp_tag.value) == 0
    assert tb.dram.outstanding() == 0
    before, answered = len(tb.dram.responses), len(tb.responses)
    for tag in (0, 5, (1 << len(dut.dram_rsp_tag)) - 1):
        tb.dram.inject_response(tag, rng.getrandbits(512))
    await tb.cycles_wait(6)
    # Taken on three consecutive edges (never held), and nothing came back upstream.
    taken = [r.cycle for r in tb.dram.responses[before:]]
    assert len(taken) == 3 and taken[2] - taken[0] == 2, taken
    assert len(tb.responses) == answered, "a stray response was answered upstream"
    assert int(dut.err_dram_rsp_tag.value) == 1
    tb.expect_err_dram_rsp_tag = True
    await _random_traffic(tb, m, rng, 16)
    assert int(dut.err_dram_rsp_tag.value) == 1                 # sticky


async def _random_traffic(tb, m, rng, n_ops):
    """Random multi-key traffic on few lines (same-line hazards), predicted by the model."""
    await m.config(ConfigReg.TME_ACTIVATE, tme())
    for keyid in range(1, 8):
        await m.program(keyid, SET if keyid != 6 else NOENC, rng.randbytes(16), rng.randbytes(16))
    lines = [0x10000 + 64 * i for i in range(6)]
    for _ in range(n_ops):
        keyid = rng.choice([0, 1, 2, 3, 4, 5, 6, 7, 9])
        addr = keyid_addr(keyid, rng.choice(lines))
        if rng.random() < 0.03:
            addr |= 0x10
        if rng.random() < 0.5:
            await m.issue(addr, True, rng.getrandbits(512))
        else:
            await m.issue(addr, False)
    await m.check()


@cocotb.test()
async def random_traffic_no_backpressure(dut):
    """Back-to-back multi-key traffic, DRAM answering out of order."""
    tb, m = await setup(dut, dram_latency=(1, 20))
    await _random_traffic(tb, m, random.Random(3), N_OPS)


@cocotb.test()
@cocotb.parametrize(port=["up_req", "up_rsp", "dram_req", "dram_rsp", "all"])
async def backpressure(dut, port):
    """Heavy pauses on one port (or all): nothing lost, order and data still right."""
    tb, m = await setup(dut, dram_latency=(1, 16))
    rng = random.Random(hash(port) & 0xFFFF)
    if port == "all":
        tb.set_backpressure(rng, 0.4)
    else:
        tb.set_backpressure(rng, 0.75, ports=[port])
    await _random_traffic(tb, m, rng, N_OPS // 2)


@cocotb.test()
async def command_port_backpressure(dut):
    """kp_rsp / cfg_rsp held not-ready: the commands still complete, one at a time."""
    tb, m = await setup(dut)
    tb.kp_rsp.set_pause_generator(cycle_pause([1] * 5 + [0]))
    tb.cfg_rsp.set_pause_generator(random_pause(random.Random(4), 0.8))
    await m.config(ConfigReg.TME_ACTIVATE, tme())
    for keyid in range(1, 6):
        assert await m.program(keyid, SET, keyid, keyid + 1) == 0
        await m.config(ConfigReg.TME_ACTIVATE)


@cocotb.test()
async def key_change_with_traffic_in_flight(dut):
    """Requests accepted before the status use the old key, those after it the new one."""
    tb, m = await setup(dut, dram_latency=(8, 24))
    rng = random.Random(5)
    await m.config(ConfigReg.TME_ACTIVATE, tme())
    old = (rng.randbytes(16), rng.randbytes(16))
    new = (rng.randbytes(16), rng.randbytes(16))
    await m.program(1, SET, *old)
    n_lines = max(16, min(64, N_OPS // 2)) & ~1  # 64 with the default N_OPS
    half = n_lines // 2
    lines = [0x20000 + 64 * i for i in range(n_lines)]
    plain = {line: rng.getrandbits(512) for line in lines}
    for line in lines[:half]:  # pre-fill half the lines under the old key
        await tb.issue(keyid_addr(1, line), True, plain[line])
    await tb.drain()
    tb.up_req.set_pause_generator(random_pause(rng, 0.3))
    # Reads of the pre-filled lines interleaved with writes of the others. The command starts
    # once a quarter of them were accepted (so some use the old key whatever the timing); the
    # last quarter is issued only after its status (so some use the new key); the requests in
    # between straddle the change.
    order = [x for pair in zip(lines[:half], lines[half:], strict=True) for x in pair]
    split = len(order) * 3 // 4
    base = tb.up_req.sent
    pend = []

    async def send(chunk):
        for line in chunk:
            write = line in lines[half:]
            pend.append(await tb.issue(keyid_addr(1, line), write, plain[line] if write else 0))

    await send(order[:split])
    while tb.up_req.sent < base + len(order) // 4:
        await RisingEdge(dut.clk)
    status = await tb.program_key(1, SET, *new)
    assert status == 0
    await send(order[split:])
    # Both stamps are the edge that ends the handshake cycle. Cycle rule (architecture §4):
    # a request accepted in the cycle of the status handshake (c == t) sees the old key, one
    # accepted in any later cycle (c > t) the new key. No cycle is left unchecked.
    t = tb.last_kp_rsp.cycle
    await tb.drain()
    n_old = n_new = 0
    for p in pend:
        line = p.request.addr & ((1 << 42) - 1)
        c = p.request.cycle
        if p.request.write:
            rec = [r for r in tb.dram.writes if r.addr == line][-1]
            enc = {name: as_int(xts_encrypt_line(*k, line, as_bytes(plain[line])))
                   for name, k in (("old", old), ("new", new))}
            used = [name for name, v in enc.items() if v == rec.data]
        else:
            ct = as_bytes(tb.dram.read(line))
            dec = {name: as_int(xts_decrypt_line(*k, line, ct)) for name, k in (("old", old),
                                                                               ("new", new))}
            used = [name for name, v in dec.items() if v == p.response.data]
        want = ["old"] if c <= t else ["new"]
        assert used == want, (f"{line:#x} accepted at cycle {c}, status handshake at {t}: "
                              f"used {used or 'neither key'}, the cycle rule says {want}")
        n_old += used == ["old"]
        n_new += used == ["new"]
    assert n_old and n_new, f"the key change did not split the traffic ({n_old} old, {n_new} new)"
    tb.check_quiescent()


def _hold_while(flag):
    """A pause generator: pause (1) while ``flag[0]`` is true."""
    while True:
        yield int(bool(flag[0]))


@cocotb.test()
@cocotb.parametrize(port=["kp", "cfg"])
async def cycle_rule_boundary(dut, port):
    """Requests accepted back to back across the response handshake of a key-program command
    (new key for KeyID 1) or a configuration write (TME BYPASS on): the request accepted in the
    handshake cycle uses the old state, the one accepted in the next cycle the new state."""
    tb, m = await setup(dut, dram_latency=(2, 6))
    rng = random.Random(6)
    await m.config(ConfigReg.TME_ACTIVATE, tme())
    old = (rng.randbytes(16), rng.randbytes(16))
    new = (rng.randbytes(16), rng.randbytes(16))
    await m.program(1, SET, *old)
    t1, t2 = tme_key(0)
    tme_keys = (t1.to_bytes(16, "little"), t2.to_bytes(16, "little"))
    keyid = 1 if port == "kp" else 0
    hold = [True]
    rsp_sink = tb.kp_rsp if port == "kp" else tb.cfg_rsp
    rsp_sink.set_pause_generator(_hold_while(hold))
    if port == "kp":
        cmd = cocotb.start_soon(tb.program_key(1, SET, *new))
    else:
        cmd = cocotb.start_soon(tb.config_write(ConfigReg.TME_ACTIVATE, tme(extra=BYPASS)))
    valid = dut.kp_rsp_valid if port == "kp" else dut.cfg_rsp_valid
    # Sample in ReadOnly: right after an edge a register still reads its old value.
    while True:
        await ReadOnly()
        if int(valid.value):
            break
        await RisingEdge(dut.clk)
    await RisingEdge(dut.clk)
    # The response waits (ready held low); offer 8 encrypted writes back to back and let the
    # handshake happen while they are being accepted.
    lines = [0x40000 + 64 * i for i in range(8)]
    plain = {line: rng.getrandbits(512) for line in lines}
    pend = [await tb.issue(keyid_addr(keyid, line), True, plain[line]) for line in lines]
    while pend[1].request.cycle is None:
        await RisingEdge(dut.clk)
    hold[0] = False
    await cmd
    rsp = tb.last_kp_rsp if port == "kp" else tb.last_cfg_rsp
    assert rsp.status == 0
    t = rsp.cycle
    await tb.drain()
    cycles = [p.request.cycle for p in pend]
    assert t in cycles and t + 1 in cycles, (
        f"handshake at {t} is not inside the burst accepted at {cycles}: test timing broken")
    states = {"kp": ({"old": old, "new": new}),
              "cfg": ({"old": tme_keys, "new": None})}[port]
    for p, line in zip(pend, lines, strict=True):
        c = p.request.cycle
        want = "old" if c <= t else "new"
        keys = states[want]
        expect = plain[line] if keys is None else as_int(
            xts_encrypt_line(*keys, line, as_bytes(plain[line])))
        rec = [r for r in tb.dram.writes if r.addr == line][-1]
        assert rec.data == expect, (f"{line:#x} accepted at cycle {c}, handshake at {t}: "
                                    f"DRAM line is not the {want} state's")
    tb.check_quiescent()


@cocotb.test(expect_fail=True)
async def mirror_catches_a_wrong_prediction(dut):
    """The lock-step checker fails when the model and the RTL disagree (proves it can fail)."""
    tb, m = await setup(dut)
    await m.config(ConfigReg.TME_ACTIVATE, tme())
    await m.program(1, SET, 1, 2)
    m.model.keys.set_key(1, 1, 3)  # corrupt the prediction: the model now has another key2
    await m.issue(keyid_addr(1, 0x40), True, 5)
    await m.check()
