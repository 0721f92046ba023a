"""Configuration registers of the engine: the mirror of the platform MSRs it needs.

The register map, fields and rules are ``docs/architecture.md`` §6. This module holds only the
register numbers, the field positions and the pure functions that say which bits are legal;
the engine (:mod:`golden_model.engine`) applies the write rules because one of them (ENABLE
draws the TME key) touches the key table.
"""

from __future__ import annotations

import enum

from .named_enum import NamedIntEnum

__all__ = [
    "ConfigReg",
    "ConfigStatus",
    "Mode",
    "TME_ACTIVATE_LOCK",
    "TME_ACTIVATE_ENABLE",
    "TME_ACTIVATE_BYPASS",
    "TME_ACTIVATE_KEYID_BITS_SHIFT",
    "TME_ACTIVATE_KEYID_BITS_MASK",
    "TME_ACTIVATE_ALGS_SHIFT",
    "TME_ACTIVATE_ALGS_DEFINED",
    "EXCLUDE_ENABLE",
    "SYSCFG_MEM_ENCRYPTION_MOD_EN",
    "LOCKED_BY_TME_ACTIVATE",
    "writable_mask",
    "keyid_bits_field",
    "algs_field",
]


class ConfigReg(enum.IntEnum):
    """Configuration-port register addresses (architecture §6)."""

    TME_ACTIVATE = 0
    EXCLUDE_MASK = 1
    EXCLUDE_BASE = 2
    SYSCFG = 3
    TSME = 4
    MODE = 5
    KT_LOCK = 6


class ConfigStatus(NamedIntEnum):
    """Configuration-port response status (architecture §6)."""

    OK = 0
    LOCKED = 1
    INVALID = 2
    ENTROPY_ERROR = 3


class Mode(enum.IntEnum):
    """Address-decode scheme selected by the MODE register."""

    INTEL = 0  # TME / TME-MK: KeyID in the top PA bits
    AMD = 1  # SME / TSME / SEV: C-bit and ASID


# TME_ACTIVATE fields (same positions as IA32_TME_ACTIVATE, facts §3.3).
TME_ACTIVATE_LOCK = 1 << 0
TME_ACTIVATE_ENABLE = 1 << 1
TME_ACTIVATE_BYPASS = 1 << 31
TME_ACTIVATE_KEYID_BITS_SHIFT = 32
TME_ACTIVATE_KEYID_BITS_MASK = 0xF << TME_ACTIVATE_KEYID_BITS_SHIFT
TME_ACTIVATE_ALGS_SHIFT = 48
_TME_ACTIVATE_ALGS_MASK = 0xFFFF << TME_ACTIVATE_ALGS_SHIFT
# ALGS bits that name an algorithm: 0 AES-XTS-128, 1 XTS-128 with integrity, 2 AES-XTS-256
# (TME_ACTIVATE bits 48-50); the other 13 are undefined and a WRMSR setting one is #GP.
TME_ACTIVATE_ALGS_DEFINED = 0b111

# EXCLUDE_MASK[11]: the exclusion range is active.
EXCLUDE_ENABLE = 1 << 11

# SYSCFG[23] MemEncryptionModEn: without it the AMD decode never encrypts.
SYSCFG_MEM_ENCRYPTION_MOD_EN = 1 << 23

# The registers that the TME_ACTIVATE lock freezes; SYSCFG and TSME stay writable, and KT_LOCK
# freezes itself once set (sticky until reset).
LOCKED_BY_TME_ACTIVATE = frozenset({ConfigReg.TME_ACTIVATE, ConfigReg.EXCLUDE_MASK,
                                    ConfigReg.EXCLUDE_BASE, ConfigReg.MODE})


def writable_mask(reg: ConfigReg, pa_width: int) -> int:
    """The bits of ``reg`` that are fields; a write with any other bit set answers INVALID."""
    page_bits = ((1 << pa_width) - 1) & ~0xFFF  # [PA_WIDTH-1:12]
    return {
        ConfigReg.TME_ACTIVATE: (TME_ACTIVATE_LOCK | TME_ACTIVATE_ENABLE | TME_ACTIVATE_BYPASS
                                 | TME_ACTIVATE_KEYID_BITS_MASK | _TME_ACTIVATE_ALGS_MASK),
        ConfigReg.EXCLUDE_MASK: page_bits | EXCLUDE_ENABLE,
        ConfigReg.EXCLUDE_BASE: page_bits,
        ConfigReg.SYSCFG: SYSCFG_MEM_ENCRYPTION_MOD_EN,
        ConfigReg.TSME: 1,
        ConfigReg.MODE: 1,
        ConfigReg.KT_LOCK: 1,
    }[reg]


def keyid_bits_field(tme_activate: int) -> int:
    """TME_ACTIVATE.KEYID_BITS, the number of PA bits that carry the KeyID when enabled."""
    return (tme_activate >> TME_ACTIVATE_KEYID_BITS_SHIFT) & 0xF


def algs_field(tme_activate: int) -> int:
    """TME_ACTIVATE.ALGS, the ENC_ALG bits the key-program port accepts in Intel mode."""
    return (tme_activate >> TME_ACTIVATE_ALGS_SHIFT) & 0xFFFF
