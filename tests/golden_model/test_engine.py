import pytest

from golden_model.config import (
    SYSCFG_MEM_ENCRYPTION_MOD_EN,
    TME_ACTIVATE_BYPASS,
    TME_ACTIVATE_ENABLE,
    TME_ACTIVATE_LOCK,
    ConfigReg,
    ConfigStatus,
    Mode,
)
from golden_model.engine import DramAccess, Engine, EngineParams, ErrorCode, Request
from golden_model.entropy import EntropySource
from golden_model.keytable import (
    ENC_ALG_XTS_128,
    ENC_ALG_XTS_256,
    Command,
    KeyProgramCommand,
    KeyProgramStatus,
    SlotState,
)
from golden_model.xts import xts_decrypt_line, xts_encrypt_line

ALGS = ENC_ALG_XTS_128 << 48
LINE = bytes(range(64))
K1, K2 = b"\x11" * 16, b"\x22" * 16


def tme_value(keyid_bits=6, lock=True, enable=True, bypass=False):
    return ((TME_ACTIVATE_LOCK if lock else 0) | (TME_ACTIVATE_ENABLE if enable else 0)
            | (TME_ACTIVATE_BYPASS if bypass else 0) | keyid_bits << 32 | ALGS)


def intel(keyid_bits=6, **kw) -> Engine:
    eng = Engine(EngineParams(), EntropySource(seed=1))
    assert eng.config_write(ConfigReg.TME_ACTIVATE, tme_value(keyid_bits, **kw)) is ConfigStatus.OK
    return eng


def amd(tsme=False) -> Engine:
    eng = Engine(EngineParams(), EntropySource(seed=1))
    assert eng.config_write(ConfigReg.MODE, Mode.AMD) is ConfigStatus.OK
    assert eng.config_write(ConfigReg.SYSCFG, SYSCFG_MEM_ENCRYPTION_MOD_EN) is ConfigStatus.OK
    assert eng.config_write(ConfigReg.TSME, int(tsme)) is ConfigStatus.OK
    return eng


def program(eng, keyid, command=Command.SET_KEY_DIRECT, alg=ENC_ALG_XTS_128, k1=K1, k2=K2):
    return eng.key_program(KeyProgramCommand(keyid, command, alg, k1, k2))


# Configuration registers and the MSR lock --------------------------------------------------------

def test_reset_state_is_plaintext_intel():
    eng = Engine()
    assert all(eng.config_read(r) == 0 for r in ConfigReg)
    resp = eng.write(0x1000, LINE)
    assert resp.dram == DramAccess(0x1000, True, LINE)


def test_lock_freezes_tme_exclude_and_mode_but_not_syscfg_tsme_ktlock():
    eng = intel()
    for reg in (ConfigReg.TME_ACTIVATE, ConfigReg.EXCLUDE_MASK, ConfigReg.EXCLUDE_BASE, ConfigReg.MODE):
        before = eng.config_read(reg)
        assert eng.config_write(reg, 0) is ConfigStatus.LOCKED
        assert eng.config_read(reg) == before
    for reg, value in ((ConfigReg.SYSCFG, SYSCFG_MEM_ENCRYPTION_MOD_EN), (ConfigReg.TSME, 1),
                       (ConfigReg.KT_LOCK, 1)):
        assert eng.config_write(reg, value) is ConfigStatus.OK
        assert eng.config_read(reg) == value


def test_unlocked_writes_may_be_repeated_and_lock_clears_only_on_reset():
    eng = intel(lock=False)
    assert eng.config_write(ConfigReg.MODE, 1) is ConfigStatus.OK
    assert eng.config_write(ConfigReg.TME_ACTIVATE, TME_ACTIVATE_LOCK) is ConfigStatus.OK
    assert eng.config_write(ConfigReg.TME_ACTIVATE, 0) is ConfigStatus.LOCKED
    eng.reset()
    assert eng.config_write(ConfigReg.TME_ACTIVATE, 0) is ConfigStatus.OK


@pytest.mark.parametrize("reg,value", [
    (ConfigReg.TME_ACTIVATE, 1 << 2),  # key select: reserved here
    (ConfigReg.TME_ACTIVATE, 7 << 32),  # KEYID_BITS > KEYID_BITS_MAX (6)
    (ConfigReg.EXCLUDE_MASK, 1 << 10),
    (ConfigReg.EXCLUDE_BASE, 1 << 48),  # above PA_WIDTH
    (ConfigReg.SYSCFG, 1 << 22),
    (ConfigReg.TSME, 2),
    (ConfigReg.MODE, 2),
    (ConfigReg.KT_LOCK, 2),
    (7, 0),  # no such register
])
def test_invalid_writes_change_nothing(reg, value):
    eng = Engine()
    assert eng.config_write(reg, value) is ConfigStatus.INVALID
    assert all(eng.config_read(r) == 0 for r in ConfigReg)


def test_invalid_is_checked_before_locked():
    eng = intel()
    assert eng.config_write(ConfigReg.MODE, 2) is ConfigStatus.INVALID
    assert eng.config_write(ConfigReg.MODE, 1) is ConfigStatus.LOCKED


def test_enable_draws_tme_key_and_entropy_failure_changes_nothing():
    src = EntropySource(seed=9)
    eng = Engine(entropy=src)
    src.fail_next(1)
    assert eng.config_write(ConfigReg.TME_ACTIVATE, tme_value()) is ConfigStatus.ENTROPY_ERROR
    assert eng.config_read(ConfigReg.TME_ACTIVATE) == 0
    assert eng.keys[0].state is SlotState.EMPTY
    word = src.peek()
    assert eng.config_write(ConfigReg.TME_ACTIVATE, tme_value()) is ConfigStatus.OK
    lo, hi = word & (1 << 128) - 1, word >> 128
    assert eng.keys[0].keys == (lo.to_bytes(16, "little"), hi.to_bytes(16, "little"))


def test_read_of_unknown_register_and_access_port():
    eng = Engine()
    assert eng.config_access(9, False) == (ConfigStatus.INVALID, 0)
    assert eng.config_access(ConfigReg.TSME, True, 1) == (ConfigStatus.OK, 1)


# Key program: every status, check order ------------------------------------------------------------

def test_every_status_intel():
    eng = intel(keyid_bits=3)
    assert program(eng, 1, command=4) is KeyProgramStatus.INVALID_PROG_CMD
    assert program(eng, 0) is KeyProgramStatus.INVALID_KEYID
    assert program(eng, 8) is KeyProgramStatus.INVALID_KEYID  # > 2**3 - 1
    assert program(eng, 7, alg=ENC_ALG_XTS_256) is KeyProgramStatus.INVALID_ENC_ALG
    assert program(eng, 7, alg=0) is KeyProgramStatus.INVALID_ENC_ALG
    assert program(eng, 7, alg=ENC_ALG_XTS_128 | ENC_ALG_XTS_256) is KeyProgramStatus.INVALID_ENC_ALG
    assert program(eng, 7, command=Command.CLEAR_KEY, alg=0) is KeyProgramStatus.INVALID_ENC_ALG
    eng.entropy.available = False
    assert program(eng, 7, command=Command.SET_KEY_RANDOM) is KeyProgramStatus.ENTROPY_ERROR
    eng.entropy.available = True
    assert program(eng, 7) is KeyProgramStatus.PROG_SUCCESS
    assert eng.keys[7].keys == (K1, K2)
    assert eng.config_write(ConfigReg.KT_LOCK, 1) is ConfigStatus.OK
    assert program(eng, 6) is KeyProgramStatus.DEVICE_BUSY
    assert eng.keys[6].state is SlotState.EMPTY


def test_kt_lock_is_sticky_until_reset():
    eng = intel(lock=False)
    assert eng.config_write(ConfigReg.KT_LOCK, 1) is ConfigStatus.OK
    assert eng.config_write(ConfigReg.KT_LOCK, 0) is ConfigStatus.LOCKED
    assert eng.config_read(ConfigReg.KT_LOCK) == 1
    assert program(eng, 1) is KeyProgramStatus.DEVICE_BUSY
    eng.reset()
    assert eng.config_read(ConfigReg.KT_LOCK) == 0


def test_check_order():
    eng = intel(keyid_bits=3)
    eng.config_write(ConfigReg.KT_LOCK, 1)
    eng.entropy.available = False
    assert program(eng, 0, command=9, alg=0) is KeyProgramStatus.INVALID_PROG_CMD
    assert program(eng, 0, alg=0) is KeyProgramStatus.INVALID_KEYID
    assert program(eng, 1, command=Command.SET_KEY_RANDOM, alg=0) is KeyProgramStatus.INVALID_ENC_ALG
    assert program(eng, 1, command=Command.SET_KEY_RANDOM) is KeyProgramStatus.DEVICE_BUSY


def test_intel_alg_must_be_in_tme_activate_algs_and_tme_disabled_has_no_keyids():
    eng = Engine()
    assert program(eng, 1) is KeyProgramStatus.INVALID_KEYID  # k = 0 while TME is disabled
    eng.config_write(ConfigReg.TME_ACTIVATE, TME_ACTIVATE_ENABLE | 2 << 32)  # ALGS = 0
    assert program(eng, 1) is KeyProgramStatus.INVALID_ENC_ALG


def test_amd_keyids_and_random_key():
    eng = amd()
    assert program(eng, 0) is KeyProgramStatus.INVALID_KEYID
    assert program(eng, 64) is KeyProgramStatus.INVALID_KEYID
    word = eng.entropy.peek()
    assert program(eng, 63, command=Command.SET_KEY_RANDOM, k1=1, k2=0) is KeyProgramStatus.PROG_SUCCESS
    assert eng.keys[63].keys[0] == ((word & (1 << 128) - 1) ^ 1).to_bytes(16, "little")


# Decode ------------------------------------------------------------------------------------------

def test_common_bad_address():
    eng = intel()
    for addr in (0x20, 1 << 48, 1 << 63):
        resp = eng.request(Request(addr, True, 0, LINE, tag=5))
        assert (resp.error, resp.tag, resp.data, resp.dram) == (ErrorCode.BAD_ADDRESS, 5, bytes(64), None)
    assert len(eng.dram) == 0


def test_intel_keyid_decode_and_tweak_without_keyid():
    eng = intel()
    assert program(eng, 5) is KeyProgramStatus.PROG_SUCCESS
    addr = 5 << 42 | 0x1240
    resp = eng.write(addr, LINE)
    assert resp.dram.addr == 0x1240
    assert resp.dram.data == xts_encrypt_line(K1, K2, 0x1240, LINE)
    assert eng.read(addr).data == LINE
    d = eng.decode(addr)
    assert (d.error, d.dram_addr, d.encrypted, d.slot, d.keys) == (ErrorCode.OK, 0x1240, True, 5, (K1, K2))


def test_intel_keyid_beyond_slots_is_bad_keyid():
    eng = Engine(EngineParams(slots=16), EntropySource(1))
    eng.config_write(ConfigReg.TME_ACTIVATE, tme_value(6))
    assert eng.decode(20 << 42).error is ErrorCode.BAD_KEYID
    assert eng.decode(15 << 42).error is ErrorCode.OK


def test_intel_empty_slot_uses_tme_key_no_encrypt_is_plain_bypass_and_exclusion():
    eng = intel(lock=False)
    tme_ct = eng.write(0x2000, LINE).dram.data
    assert tme_ct == xts_encrypt_line(*eng.keys[0].keys, 0x2000, LINE)
    assert eng.write(3 << 42 | 0x2000, LINE).dram.data == tme_ct  # EMPTY slot -> KeyID 0
    program(eng, 3, command=Command.NO_ENCRYPT)
    assert eng.write(3 << 42 | 0x2000, LINE).dram.data == LINE
    eng.config_write(ConfigReg.EXCLUDE_MASK, 0xFFFF_F000 | 1 << 11)
    eng.config_write(ConfigReg.EXCLUDE_BASE, 0x2000)
    assert eng.write(0x2000, LINE).dram.data == LINE
    assert eng.write(0x3000, LINE).dram.data != LINE
    eng.config_write(ConfigReg.TME_ACTIVATE, tme_value(lock=False, bypass=True))
    assert eng.write(0x3000, LINE).dram.data == LINE


def test_intel_tme_disabled_is_plaintext_with_no_keyid_bits():
    eng = Engine()
    resp = eng.write(1 << 42, LINE)  # no KeyID bits: a plain address
    assert resp.dram == DramAccess(1 << 42, True, LINE)


def test_amd_decode():
    eng = amd()
    c = 1 << 47
    assert eng.decode(c | 0x1000).error is ErrorCode.NO_KEY  # host key not loaded
    assert eng.write(c | 0x1000, LINE).dram is None and len(eng.dram) == 0
    program(eng, 63)
    program(eng, 4, k1=K2, k2=K1)
    assert eng.write(c | 0x1000, LINE).dram.data == xts_encrypt_line(K1, K2, 0x1000, LINE)
    assert eng.write(0x1000, LINE).dram.data == LINE  # C = 0, TSME off
    assert eng.write(c | 0x1000, LINE, asid=4).dram.data == xts_encrypt_line(K2, K1, 0x1000, LINE)
    assert eng.write(0x1000, LINE, asid=4).dram.data == LINE  # guest shared page
    assert eng.decode(c | 0x1000, 5).error is ErrorCode.NO_KEY
    assert eng.decode(c | 0x1000, 63).error is ErrorCode.BAD_KEYID  # ASID >= SLOTS-1
    assert eng.decode(c | 1 << 46 | 0x40).dram_addr == 1 << 46 | 0x40
    program(eng, 5, command=Command.NO_ENCRYPT)
    assert eng.write(c | 0x1000, LINE, asid=5).dram.data == LINE


def test_amd_tsme_and_syscfg():
    eng = amd(tsme=True)
    program(eng, 63)
    assert eng.write(0x1000, LINE).dram.data == xts_encrypt_line(K1, K2, 0x1000, LINE)
    eng.config_write(ConfigReg.SYSCFG, 0)
    assert eng.write(1 << 47 | 0x1000, LINE).dram.data == LINE


def test_amd_bits_above_c_bit_are_bad_address():
    eng = Engine(EngineParams(pa_width=52, c_bit_pos=47))
    eng.config_write(ConfigReg.MODE, 1)
    assert eng.decode(1 << 50).error is ErrorCode.BAD_ADDRESS
    assert eng.decode(1 << 47).error is ErrorCode.OK


# Atomicity, reset, port misuse ----------------------------------------------------------------------

def test_request_accepted_before_rekey_uses_old_key():
    eng = intel()
    program(eng, 2)
    addr = 2 << 42 | 0x40
    pending = eng.accept(Request(addr, True, 0, LINE))
    program(eng, 2, k1=K2, k2=K1)
    after = eng.accept(Request(addr + 0x40, True, 0, LINE))
    assert eng.complete(pending).dram.data == xts_encrypt_line(K1, K2, 0x40, LINE)
    assert eng.complete(after).dram.data == xts_encrypt_line(K2, K1, 0x80, LINE)


def test_reset_zeroizes_keys_keeps_dram():
    eng = intel()
    program(eng, 2)
    ct = eng.write(2 << 42, LINE).dram.data
    eng.reset()
    assert all(eng.keys[i].state is SlotState.EMPTY for i in range(64))
    assert all(eng.config_read(r) == 0 for r in ConfigReg)
    assert eng.dram.peek(0) == ct
    assert eng.read(0).data == ct
    assert xts_decrypt_line(K1, K2, 0, ct) == LINE


def test_values_that_do_not_fit_the_port_raise():
    eng = Engine()
    with pytest.raises(ValueError):
        eng.request(Request(1 << 64))
    with pytest.raises(ValueError):
        eng.request(Request(0, True, 0, b"short"))
    with pytest.raises(ValueError):
        eng.request(Request(0, asid=64))
    with pytest.raises(ValueError):
        KeyProgramCommand(1 << 16, 0)


def test_keys_are_not_in_reprs():
    cmd = KeyProgramCommand(1, Command.SET_KEY_DIRECT, key1=b"\xab" * 16)
    assert "ab" * 4 not in repr(cmd)
    eng = intel()
    program(eng, 1, k1=b"\xab" * 16)
    assert "abab" not in repr(eng.keys[1]) and "abab" not in repr(eng.decode(1 << 42))
