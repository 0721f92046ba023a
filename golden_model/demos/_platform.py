"""Platform set-ups shared by the demos (what BIOS and firmware would have done at boot)."""

from __future__ import annotations

from ..config import (
    SYSCFG_MEM_ENCRYPTION_MOD_EN,
    TME_ACTIVATE_ALGS_SHIFT,
    TME_ACTIVATE_ENABLE,
    TME_ACTIVATE_KEYID_BITS_SHIFT,
    TME_ACTIVATE_LOCK,
    ConfigReg,
    ConfigStatus,
    Mode,
)
from ..cpu import Cpu
from ..engine import Engine
from ..entropy import EntropySource
from ..keytable import ENC_ALG_XTS_128, Command, KeyProgramCommand, KeyProgramStatus

__all__ = ["amd_sme_platform", "intel_tme_platform", "hexline"]


def amd_sme_platform(seed: int = 1, *, tsme: bool = False) -> tuple[Engine, Cpu]:
    """AMD mode, SYSCFG.MemEncryptionModEn = 1, a random host key in the last slot."""
    eng = Engine(entropy=EntropySource(seed=seed))
    assert eng.config_write(ConfigReg.MODE, Mode.AMD) is ConfigStatus.OK
    assert eng.config_write(ConfigReg.SYSCFG, SYSCFG_MEM_ENCRYPTION_MOD_EN) is ConfigStatus.OK
    assert eng.config_write(ConfigReg.TSME, int(tsme)) is ConfigStatus.OK
    status = eng.key_program(KeyProgramCommand(eng.params.slots - 1, Command.SET_KEY_RANDOM))
    assert status is KeyProgramStatus.PROG_SUCCESS
    return eng, Cpu(eng)


def intel_tme_platform(seed: int = 1, *, keyid_bits: int = 6, bypass: bool = False) -> tuple[Engine, Cpu]:
    """Intel mode, TME enabled and locked with ``keyid_bits`` KeyID bits, XTS-128 allowed."""
    eng = Engine(entropy=EntropySource(seed=seed))
    value = (TME_ACTIVATE_LOCK | TME_ACTIVATE_ENABLE | keyid_bits << TME_ACTIVATE_KEYID_BITS_SHIFT
             | ENC_ALG_XTS_128 << TME_ACTIVATE_ALGS_SHIFT | (1 << 31 if bypass else 0))
    assert eng.config_write(ConfigReg.TME_ACTIVATE, value) is ConfigStatus.OK
    return eng, Cpu(eng)


def hexline(data: bytes, limit: int = 32) -> str:
    """Hex of the first ``limit`` bytes, for before/after prints."""
    return data[:limit].hex() + ("..." if len(data) > limit else "")
