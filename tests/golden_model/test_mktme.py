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
