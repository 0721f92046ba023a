"""AddressDecoder against the decode rules of docs/architecture.md §3, both modes.

A table of hand-written cases (each names the rule it exercises), then a random cross-check
against ``golden_model.engine.Engine.decode``.
"""

import random

import pytest

from rtl.engine.decode import AddressDecoder
from rtl.engine.layouts import SlotState

from ._util import cfg_fields, run_sim

E, K, N = SlotState.EMPTY, SlotState.KEY, SlotState.NO_ENCRYPT
OK, BAD_ADDR, BAD_KEYID, NO_KEY = 0, 1, 2, 3
PLAIN = ("plain",)

TME_ON_6 = {0: (1 << 1) | (6 << 32) | (1 << 48)}           # ENABLE, KEYID_BITS=6, ALGS=XTS-128
TME_ON_3 = {0: (1 << 1) | (3 << 32) | (1 << 48)}
BYPASS = {0: TME_ON_6[0] | (1 << 31)}
EXCL = {**TME_ON_6, 1: 0xFFFFF000 | (1 << 11), 2: 0x10000}
AMD_ON = {5: 1, 3: 1 << 23}
AMD_TSME = {**AMD_ON, 4: 1}
STATES = {1: K, 2: N, 3: E, 5: K, 6: E, 7: N, 63: K}

C = 1 << 47
# (name, regs, states, addr, asid, expected): expected is (error,) or (OK, dram_addr, enc, slot)
CASES = [
    ("misaligned", TME_ON_6, STATES, 0x1001, 0, (BAD_ADDR,)),
    ("above_pa_width", TME_ON_6, STATES, 1 << 48, 0, (BAD_ADDR,)),
    ("tme_off_plain_full_addr", {}, STATES, (1 << 42) | 0x40, 0, (OK, (1 << 42) | 0x40, 0, 0)),
    ("keyid0_tme_key", TME_ON_6, STATES, 0x1000, 0, (OK, 0x1000, 1, 0)),
    ("keyid1_key", TME_ON_6, STATES, (1 << 42) | 0x1000, 0, (OK, 0x1000, 1, 1)),
    ("keyid2_no_encrypt", TME_ON_6, STATES, (2 << 42) | 0x40, 0, (OK, 0x40, 0, 0)),
    ("keyid3_empty_as_keyid0", TME_ON_6, STATES, (3 << 42) | 0x80, 0, (OK, 0x80, 1, 0)),
    ("keyid_bits3", TME_ON_3, STATES, (5 << 45) | 0x80, 0, (OK, 0x80, 1, 5)),
    ("keyid_bits3_high_addr_kept", TME_ON_3, STATES, (1 << 44) | 0x80, 0,
     (OK, (1 << 44) | 0x80, 1, 0)),
    ("bypass_keyid0", BYPASS, STATES, 0x1000, 0, (OK, 0x1000, 0, 0)),
    ("bypass_empty_slot", BYPASS, STATES, (3 << 42) | 0x1000, 0, (OK, 0x1000, 0, 0)),
    ("bypass_keyid1_still_key", BYPASS, STATES, (1 << 42) | 0x1000, 0, (OK, 0x1000, 1, 1)),
    ("excluded", EXCL, STATES, 0x10040, 0, (OK, 0x10040, 0, 0)),
    ("not_excluded", EXCL, STATES, 0x20040, 0, (OK, 0x20040, 1, 0)),
    ("excluded_empty_slot", EXCL, STATES, (3 << 42) | 0x10040, 0, (OK, 0x10040, 0, 0)),
    ("excluded_only_keyid0", EXCL, STATES, (1 << 42) | 0x10040, 0, (OK, 0x10040, 1, 1)),
    ("intel_ignores_asid", TME_ON_6, STATES, (1 << 42), 9, (OK, 0, 1, 1)),
    ("amd_sme_off_plain", {5: 1}, STATES, C | 0x40, 0, (OK, 0x40, 0, 0)),
    ("amd_c0_plain", AMD_ON, STATES, 0x40, 5, (OK, 0x40, 0, 0)),
    ("amd_host_c1", AMD_ON, STATES, C | 0x40, 0, (OK, 0x40, 1, 63)),
    ("amd_host_empty", AMD_ON, {}, C | 0x40, 0, (NO_KEY,)),
    ("amd_host_no_encrypt", AMD_ON, {63: N}, C | 0x40, 0, (OK, 0x40, 0, 0)),
    ("amd_guest_key", AMD_ON, STATES, C | 0x40, 5, (OK, 0x40, 1, 5)),
    ("amd_guest_empty", AMD_ON, STATES, C | 0x40, 6, (NO_KEY,)),
    ("amd_guest_no_encrypt", AMD_ON, STATES, C | 0x40, 7, (OK, 0x40, 0, 0)),
    ("amd_guest_host_slot_asid", AMD_ON, STATES, C | 0x40, 63, (BAD_KEYID,)),
    ("amd_tsme_c0_host", AMD_TSME, STATES, 0x40, 5, (OK, 0x40, 1, 63)),
    ("amd_tsme_c0_asid0", AMD_TSME, STATES, 0x80, 0, (OK, 0x80, 1, 63)),
    ("amd_misaligned", AMD_ON, STATES, C | 0x41, 0, (BAD_ADDR,)),
    ("amd_keyid_bits_ignored", {**AMD_ON, **TME_ON_6}, STATES, (1 << 42) | 0x40, 0,
     (OK, (1 << 42) | 0x40, 0, 0)),
]

# Smaller decoders for the error rules the default parameters cannot reach.
SMALL_CASES = [
    # slots=16 with KEYID_BITS=6: KeyID 20 has no slot.
    ("keyid_beyond_slots", dict(slots=16), TME_ON_6, {}, 20 << 42, 0, (BAD_KEYID,)),
    ("keyid_15_ok", dict(slots=16), TME_ON_6, {15: K}, (15 << 42) | 0x40, 0, (OK, 0x40, 1, 15)),
    # C-bit at 45 of 48: bits 47:46 are beyond the reduced physical width.
    ("amd_above_cbit", dict(c_bit_pos=45), AMD_ON, STATES, 1 << 46, 0, (BAD_ADDR,)),
    ("amd_cbit45", dict(c_bit_pos=45), AMD_ON, STATES, (1 << 45) | 0x40, 5, (OK, 0x40, 1, 5)),
    ("amd_cbit45_sme_off_still_bad", dict(c_bit_pos=45), {5: 1}, STATES, 1 << 46, 0, (BAD_ADDR,)),
]


def _check(dut, cases):
    async def tb(ctx):
        for name, regs, states, addr, asid, exp in cases:
            ctx.set(dut.config, cfg_fields(regs, dut.pa_width))
            ctx.set(dut.slot_states, [states.get(i, E) for i in range(dut.slots)])
            ctx.set(dut.addr, addr)
            ctx.set(dut.asid, asid)
            err = ctx.get(dut.error).value
            got = (err,) if err else (err, ctx.get(dut.dram_addr), ctx.get(dut.encrypt),
                                      ctx.get(dut.slot) if ctx.get(dut.encrypt) else 0)
            assert got == exp, f"{name}: got {got}, expected {exp}"
    run_sim(dut, tb, clocked=False)


def test_decode_table():
    _check(AddressDecoder(), [c for c in CASES])


@pytest.mark.parametrize("case", SMALL_CASES, ids=[c[0] for c in SMALL_CASES])
def test_decode_small_params(case):
    name, params, *rest = case
    _check(AddressDecoder(**params), [(name, *rest)])


def test_decode_random_vs_golden_model():
    """Random configurations, slot states and addresses against the golden model's decode."""
    gm = pytest.importorskip("golden_model.engine")
    from golden_model.keytable import Slot
    from golden_model.keytable import SlotState as GState
    rng = random.Random(1)
    dut = AddressDecoder()
    cases = []
    for n in range(300):
        eng = gm.Engine()
        regs = {
            0: ((1 << 1) if rng.random() < 0.8 else 0) | (rng.randrange(7) << 32)
               | ((1 << 31) if rng.random() < 0.2 else 0) | (1 << 48),
            1: (rng.randrange(1 << 36) << 12) | ((1 << 11) if rng.random() < 0.3 else 0),
            2: rng.randrange(1 << 36) << 12,
            3: (1 << 23) if rng.random() < 0.8 else 0,
            4: rng.randrange(2),
            5: rng.randrange(2),
        }
        eng._regs.update({gm.ConfigReg(a): v for a, v in regs.items()})
        eng._refresh()
        states = {i: rng.choice([E, K, N]) for i in range(64)}
        for i, s in states.items():
            eng.keys._slots[i] = Slot(GState(s.value))
        if rng.random() < 0.3:
            addr = rng.randrange(1 << 64) & ~0x3F
        else:
            addr = rng.randrange(1 << 48) & ~0x3F
        if rng.random() < 0.02:
            addr |= 1
        asid = rng.randrange(64)
        d = eng.decode(addr, asid)
        exp = ((d.error.value,) if d.error else
               (0, d.dram_addr, int(d.encrypted), d.slot if d.encrypted else 0))
        cases.append((f"random{n}", regs, states, addr, asid, exp))
    _check(dut, cases)
