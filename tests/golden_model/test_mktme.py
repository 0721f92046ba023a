import pytest

from golden_model.config import TME_ACTIVATE_ENABLE, TME_ACTIVATE_LOCK, ConfigReg
from golden_model.engine import Engine
from golden_model.entropy import EntropySource
from golden_model.keytable import ENC_ALG_XTS_128, ENC_ALG_XTS_256, Command, KeyProgramStatus, SlotState
from golden_model.mktme import (
    IA32_TME_ACTIVATE,
    IA32_TME_CAPABILITY,
    IA32_TME_EXCLUDE_MASK,
    GeneralProtectionFault,
    KeyProgramStruct,
    keyid_of,
    pconfig,
    rdmsr,
    strip_keyid,
    tme_capability,
    with_keyid,
    wrmsr,
)

ACTIVATE = TME_ACTIVATE_LOCK | TME_ACTIVATE_ENABLE | 4 << 32 | ENC_ALG_XTS_128 << 48


def activated() -> Engine:
    eng = Engine(entropy=EntropySource(seed=2))
    wrmsr(eng, IA32_TME_ACTIVATE, ACTIVATE)
    return eng


def image(keyid, command, alg=ENC_ALG_XTS_128, key1=b"\x01" * 16, key2=b"\x02" * 16) -> bytes:
    return KeyProgramStruct.build(keyid, command, alg, key1, key2).to_bytes()


def test_struct_layout_offsets():
    raw = image(0x1234, Command.SET_KEY_RANDOM, ENC_ALG_XTS_128, b"\xaa" * 16, b"\xbb" * 16)
    assert len(raw) == 256
    assert raw[0:2] == b"\x34\x12"
    assert raw[2:6] == bytes([1, 1, 0, 0])  # COMMAND=1, ENC_ALG bit 0 at KEYID_CTRL bit 8
    assert raw[64:80] == b"\xaa" * 16 and raw[128:144] == b"\xbb" * 16
    s = KeyProgramStruct.from_bytes(raw)
    assert (s.keyid, s.command, s.enc_alg) == (0x1234, 1, ENC_ALG_XTS_128)


@pytest.mark.parametrize("raw,status", [
    (image(3, Command.SET_KEY_DIRECT), KeyProgramStatus.PROG_SUCCESS),
    (image(3, 4), KeyProgramStatus.INVALID_PROG_CMD),
    (image(0, Command.SET_KEY_DIRECT), KeyProgramStatus.INVALID_KEYID),
    (image(16, Command.SET_KEY_DIRECT), KeyProgramStatus.INVALID_KEYID),  # > 2**4 - 1
    (image(3, Command.SET_KEY_DIRECT, ENC_ALG_XTS_256), KeyProgramStatus.INVALID_ENC_ALG),
    (image(3, Command.CLEAR_KEY, 0), KeyProgramStatus.INVALID_ENC_ALG),
])
def test_return_codes(raw, status):
    eng = activated()
    assert pconfig(eng, 0, raw) is status
    assert (eng.keys[3].state is SlotState.KEY) == (status is KeyProgramStatus.PROG_SUCCESS)


def test_entropy_error_and_device_busy():
    eng = activated()
    eng.entropy.fail_next(1)
    assert pconfig(eng, 0, image(3, Command.SET_KEY_RANDOM)) is KeyProgramStatus.ENTROPY_ERROR
    assert pconfig(eng, 0, image(3, Command.SET_KEY_RANDOM)) is KeyProgramStatus.PROG_SUCCESS
    eng.config_write(ConfigReg.KT_LOCK, 1)
    assert pconfig(eng, 0, image(3, Command.NO_ENCRYPT)) is KeyProgramStatus.DEVICE_BUSY
    assert eng.keys[3].state is SlotState.KEY


def _with(raw: bytes, offset: int, value: int) -> bytes:
    b = bytearray(raw)
    b[offset] = value
    return bytes(b)


@pytest.mark.parametrize("kwargs,raw", [
    ({"leaf": 1}, image(3, 0)),
    ({"address": 0x1080}, image(3, 0)),
    ({}, _with(image(3, 0), 5, 1)),  # KEYID_CTRL[31:24]
    ({}, _with(image(3, 0), 6, 1)),  # reserved byte 6
    ({}, _with(image(3, 0), 63, 1)),  # reserved byte 63
    ({}, _with(image(3, 0), 64 + 16, 1)),  # key field 1 byte 16 (unused by XTS-128)
    ({}, _with(image(3, 0), 128 + 63, 1)),  # key field 2 byte 63
])
def test_general_protection_conditions(kwargs, raw):
    eng = activated()
    with pytest.raises(GeneralProtectionFault):
        pconfig(eng, kwargs.get("leaf", 0), raw, address=kwargs.get("address", 0))
    assert eng.keys[3].state is SlotState.EMPTY


def test_padding_bytes_are_not_read():
    eng = activated()
    assert pconfig(eng, 0, _with(image(3, 0), 200, 0xFF)) is KeyProgramStatus.PROG_SUCCESS


@pytest.mark.parametrize("value", [0, TME_ACTIVATE_ENABLE | 4 << 32 | ENC_ALG_XTS_128 << 48,
                                   TME_ACTIVATE_LOCK | TME_ACTIVATE_ENABLE | ENC_ALG_XTS_128 << 48])
def test_pconfig_faults_unless_mktme_activated(value):
    eng = Engine()
    eng.config_write(ConfigReg.TME_ACTIVATE, value)
    with pytest.raises(GeneralProtectionFault):
        pconfig(eng, 0, image(1, 0))


def test_sdm_mode_turns_invalid_statuses_into_gp():
    eng = activated()
    for raw in (image(3, 4), image(0, 0), image(3, 0, ENC_ALG_XTS_256)):
        with pytest.raises(GeneralProtectionFault):
            pconfig(eng, 0, raw, sdm_faults=True)
    eng.entropy.available = False
    assert pconfig(eng, 0, image(3, 1), sdm_faults=True) is KeyProgramStatus.ENTROPY_ERROR


def test_msrs():
    eng = Engine()
    cap = rdmsr(eng, IA32_TME_CAPABILITY)
    assert cap == tme_capability(eng.params)
    assert cap & 1 and cap >> 31 & 1 and (cap >> 32) & 0xF == 6 and (cap >> 36) & 0x7FFF == 63
    wrmsr(eng, IA32_TME_ACTIVATE, ACTIVATE)
    assert rdmsr(eng, IA32_TME_ACTIVATE) == ACTIVATE
    with pytest.raises(GeneralProtectionFault):
        wrmsr(eng, IA32_TME_ACTIVATE, ACTIVATE)  # locked
    with pytest.raises(GeneralProtectionFault):
        wrmsr(eng, IA32_TME_EXCLUDE_MASK, 1 << 11)  # locked after activation
    with pytest.raises(GeneralProtectionFault):
        wrmsr(Engine(), IA32_TME_ACTIVATE, 1 << 5)  # reserved bit
    with pytest.raises(GeneralProtectionFault):
        rdmsr(eng, 0x10)


def test_keyid_carving():
    assert keyid_of(5 << 42 | 0x1000, 6, 48) == 5
    assert keyid_of(0x1000, 0, 48) == 0
    assert strip_keyid(5 << 42 | 0x1000, 6, 48) == 0x1000
    assert with_keyid(0x1000, 63, 6, 48) == 63 << 42 | 0x1000
    with pytest.raises(ValueError):
        with_keyid(0, 64, 6, 48)


# IA32_TME_ACTIVATE write rules (facts §3.3) -------------------------------------------------

def _fresh() -> Engine:
    return Engine(entropy=EntropySource(seed=2))


def test_any_successful_wrmsr_locks_even_with_enable_clear():
    eng = _fresh()
    wrmsr(eng, IA32_TME_ACTIVATE, 0)  # TME off, but the MSR is now locked
    assert rdmsr(eng, IA32_TME_ACTIVATE) == TME_ACTIVATE_LOCK
    with pytest.raises(GeneralProtectionFault, match="locked"):
        wrmsr(eng, IA32_TME_ACTIVATE, ACTIVATE)
    with pytest.raises(GeneralProtectionFault):
        wrmsr(eng, IA32_TME_EXCLUDE_MASK, 0xFFFF_F000 | 1 << 11)
    assert rdmsr(eng, IA32_TME_ACTIVATE) == TME_ACTIVATE_LOCK


def test_lock_bit_written_is_ignored_and_set_anyway():
    eng = _fresh()
    wrmsr(eng, IA32_TME_ACTIVATE, ACTIVATE & ~TME_ACTIVATE_LOCK)
    assert rdmsr(eng, IA32_TME_ACTIVATE) == ACTIVATE


@pytest.mark.parametrize("value, reason", [
    (4 << 32, "KEYID_BITS > 0 with ENABLE clear"),
    (TME_ACTIVATE_ENABLE | 1 << 60, "undefined MK_TME_CRYPTO_ALGS"),
    (TME_ACTIVATE_ENABLE | 1 << 51, "undefined MK_TME_CRYPTO_ALGS"),
    (TME_ACTIVATE_ENABLE | 1 << 4, "INVALID"),  # TME policy 0001: not in CAPABILITY
    (TME_ACTIVATE_ENABLE | 1 << 9, "INVALID"),  # reserved
    (TME_ACTIVATE_ENABLE | 7 << 32 | 1 << 48, "INVALID"),  # above MK_TME_MAX_KEYID_BITS (6)
])
def test_refused_tme_activate_writes_fault_and_change_nothing(value, reason):
    eng = _fresh()
    with pytest.raises(GeneralProtectionFault, match=reason):
        wrmsr(eng, IA32_TME_ACTIVATE, value)
    assert rdmsr(eng, IA32_TME_ACTIVATE) == 0  # not locked: a correct write still works
    wrmsr(eng, IA32_TME_ACTIVATE, ACTIVATE)
    assert rdmsr(eng, IA32_TME_ACTIVATE) == ACTIVATE


def test_defined_algorithm_bits_are_accepted():
    eng = _fresh()
    wrmsr(eng, IA32_TME_ACTIVATE, TME_ACTIVATE_ENABLE | 0b111 << 48)
    assert rdmsr(eng, IA32_TME_ACTIVATE) >> 48 == 0b111


def test_rng_failure_neither_enables_nor_locks():
    eng = _fresh()
    eng.entropy.fail_next()
    wrmsr(eng, IA32_TME_ACTIVATE, ACTIVATE)  # no fault: the write completes, TME stays off
    assert rdmsr(eng, IA32_TME_ACTIVATE) == 0
    wrmsr(eng, IA32_TME_ACTIVATE, ACTIVATE)
    assert rdmsr(eng, IA32_TME_ACTIVATE) == ACTIVATE


@pytest.mark.parametrize("mask, ok", [
    (0, True),
    (0xFFFF_FFF0_0000 | 1 << 11, True),   # bits 47..20: a 1 MiB region
    (0xFFFF_FFFF_F000, True),              # one page
    (0xFFFF_FF0F_0000 | 1 << 11, False),  # a hole at bits 20..23
    (0xFF00_FFF0_0000 | 1 << 11, False),  # a hole in the middle
    (0x0000_FFF0_0000 | 1 << 11, False),  # does not start at MAXPHYADDR-1
])
def test_exclude_mask_must_be_contiguous(mask, ok):
    eng = _fresh()
    if ok:
        wrmsr(eng, IA32_TME_EXCLUDE_MASK, mask)
        assert rdmsr(eng, IA32_TME_EXCLUDE_MASK) == mask
    else:
        with pytest.raises(GeneralProtectionFault, match="contiguous"):
            wrmsr(eng, IA32_TME_EXCLUDE_MASK, mask)
        assert rdmsr(eng, IA32_TME_EXCLUDE_MASK) == 0


def test_the_engine_port_keeps_its_own_rules():
    # The configuration port is a hardware port (architecture §6, mirrored by the RTL): LOCK is
    # a field the writer sets; the instruction rules above live in wrmsr only.
    eng = _fresh()
    assert eng.config_write(ConfigReg.TME_ACTIVATE, 0) == 0
    assert eng.config_write(ConfigReg.TME_ACTIVATE, ACTIVATE & ~TME_ACTIVATE_LOCK) == 0
