"""Intel TME-MK as software sees it: PCONFIG MKTME_KEY_PROGRAM, the TME MSRs, KeyID carving.

This layer turns the engine's ports into the instruction-set view (facts §3):

* :func:`pconfig` reads the 192-byte MKTME_KEY_PROGRAM_STRUCT exactly (offsets below), raises
  :class:`GeneralProtectionFault` for the #GP(0) conditions and otherwise returns the engine's
  status as RAX. ``sdm_faults=True`` selects the current SDM behaviour, where a bad command,
  KeyID or algorithm is also #GP instead of a return code (facts §3.8 documents both).
* :func:`rdmsr` / :func:`wrmsr` for IA32_TME_CAPABILITY (0x981, computed from the parameters),
  IA32_TME_ACTIVATE (0x982), IA32_TME_EXCLUDE_MASK/BASE (0x983/0x984).
* :func:`keyid_of`, :func:`strip_keyid`, :func:`with_keyid`: the KeyID in the top PA bits.

Struct layout (facts §3.7): KEYID u16 @0; KEYID_CTRL u32 @2 (COMMAND [7:0], ENC_ALG [23:8],
[31:24] reserved); 58 reserved bytes @6; KEY_FIELD_1 64 bytes @64; KEY_FIELD_2 64 bytes @128.
"""

from __future__ import annotations

from dataclasses import dataclass

from .config import (
    TME_ACTIVATE_ALGS_DEFINED,
    TME_ACTIVATE_ENABLE,
    TME_ACTIVATE_LOCK,
    ConfigReg,
    ConfigStatus,
    Mode,
    algs_field,
    keyid_bits_field,
)
from .engine import Engine, EngineParams
from .keytable import ENC_ALG_XTS_128, ENC_ALG_XTS_256, KeyProgramCommand, KeyProgramStatus

__all__ = [
    "GeneralProtectionFault",
    "MKTME_KEY_PROGRAM",
    "STRUCT_BYTES",
    "IA32_TME_CAPABILITY",
    "IA32_TME_ACTIVATE",
    "IA32_TME_EXCLUDE_MASK",
    "IA32_TME_EXCLUDE_BASE",
    "KeyProgramStruct",
    "pconfig",
    "tme_capability",
    "rdmsr",
    "wrmsr",
    "keyid_of",
    "strip_keyid",
    "with_keyid",
]

MKTME_KEY_PROGRAM = 0  # PCONFIG leaf in EAX
STRUCT_BYTES = 192  # PCONFIG reads 192 bytes of the 256-byte aligned struct
IA32_TME_CAPABILITY = 0x981
IA32_TME_ACTIVATE = 0x982
IA32_TME_EXCLUDE_MASK = 0x983
IA32_TME_EXCLUDE_BASE = 0x984

_MSR_REGS = {IA32_TME_ACTIVATE: ConfigReg.TME_ACTIVATE, IA32_TME_EXCLUDE_MASK: ConfigReg.EXCLUDE_MASK,
             IA32_TME_EXCLUDE_BASE: ConfigReg.EXCLUDE_BASE}
# Bytes of each 64-byte key field the algorithm uses; the rest must be zero (2021 spec: #GP).
_KEY_BYTES_USED = {ENC_ALG_XTS_128: 16, ENC_ALG_XTS_256: 32}


class GeneralProtectionFault(Exception):
    """#GP(0): the instruction faults; nothing changed. ``reason`` says which rule."""

    def __init__(self, reason: str) -> None:
        super().__init__(f"#GP(0): {reason}")
        self.reason = reason


@dataclass(frozen=True)
class KeyProgramStruct:
    """MKTME_KEY_PROGRAM_STRUCT, the first 192 bytes (what PCONFIG reads)."""

    keyid: int
    keyid_ctrl: int
    key_field_1: bytes = bytes(64)
    key_field_2: bytes = bytes(64)
    reserved: bytes = bytes(58)

    @property
    def command(self) -> int:
        return self.keyid_ctrl & 0xFF

    @property
    def enc_alg(self) -> int:
        return (self.keyid_ctrl >> 8) & 0xFFFF

    @classmethod
    def build(cls, keyid: int, command: int, enc_alg: int = ENC_ALG_XTS_128,
              key1: bytes = bytes(16), key2: bytes = bytes(16)) -> KeyProgramStruct:
        """A well-formed struct: keys in the low bytes of the key fields, reserved bytes zero."""
        return cls(keyid, (command & 0xFF) | (enc_alg & 0xFFFF) << 8,
                   bytes(key1).ljust(64, b"\0"), bytes(key2).ljust(64, b"\0"))

    @classmethod
    def from_bytes(cls, buf: bytes) -> KeyProgramStruct:
        """Parse the first 192 bytes of ``buf`` (bytes 192..255 are padding and never read)."""
        if len(buf) < STRUCT_BYTES:
            raise ValueError(f"PCONFIG reads {STRUCT_BYTES} bytes, got {len(buf)}")
        return cls(int.from_bytes(buf[0:2], "little"), int.from_bytes(buf[2:6], "little"),
                   bytes(buf[64:128]), bytes(buf[128:192]), bytes(buf[6:64]))

    def to_bytes(self) -> bytes:
        """The 256-byte memory image (192 bytes read by PCONFIG plus 64 bytes padding)."""
        return (self.keyid.to_bytes(2, "little") + self.keyid_ctrl.to_bytes(4, "little") + self.reserved
                + self.key_field_1 + self.key_field_2 + bytes(64))


def pconfig(engine: Engine, leaf: int, struct: bytes | KeyProgramStruct, *, address: int = 0,
            sdm_faults: bool = False) -> KeyProgramStatus:
    """Execute PCONFIG; returns RAX (the key-program status) or raises :class:`GeneralProtectionFault`.

    #GP(0) checks, in order (facts §3.6):
    1. EAX (``leaf``) is not MKTME_KEY_PROGRAM;
    2. the engine is not in Intel mode, or TME_ACTIVATE is not LOCKed, not ENABLEd, or has
       KEYID_BITS = 0 (MKTME not activated);
    3. RBX (``address``) is not 256-byte aligned;
    4. KEYID_CTRL[31:24] != 0, a reserved byte (6..63) != 0, or, for XTS-128 / XTS-256, a key
       byte beyond the 16 / 32 the algorithm uses != 0.
    Then the engine's checks (architecture §4) give the status; with ``sdm_faults`` the
    statuses INVALID_PROG_CMD, INVALID_KEYID and INVALID_ENC_ALG become #GP instead.
    """
    if leaf != MKTME_KEY_PROGRAM:
        raise GeneralProtectionFault(f"PCONFIG leaf {leaf} is not MKTME_KEY_PROGRAM")
    tme = engine.config_read(ConfigReg.TME_ACTIVATE)
    if (engine.mode is not Mode.INTEL or not tme & TME_ACTIVATE_LOCK or not tme & TME_ACTIVATE_ENABLE
            or keyid_bits_field(tme) == 0):
        raise GeneralProtectionFault("TME-MK is not activated (TME_ACTIVATE LOCK, ENABLE, KEYID_BITS)")
    if address % 256:
        raise GeneralProtectionFault(f"struct address {address:#x} is not 256-byte aligned")
    s = struct if isinstance(struct, KeyProgramStruct) else KeyProgramStruct.from_bytes(struct)
    if s.keyid_ctrl >> 24:
        raise GeneralProtectionFault("reserved bits KEYID_CTRL[31:24] set")
    if any(s.reserved):
        raise GeneralProtectionFault("reserved struct bytes 6..63 not zero")
    used = _KEY_BYTES_USED.get(s.enc_alg)
    if used is not None and (any(s.key_field_1[used:]) or any(s.key_field_2[used:])):
        raise GeneralProtectionFault(f"key bytes beyond the {used} the algorithm uses are not zero")
    # The engine port carries 128-bit keys (XTS-128, the only supported algorithm).
    status = engine.key_program(KeyProgramCommand(
        keyid=s.keyid, command=s.command, enc_alg=s.enc_alg,
        key1=s.key_field_1[:16], key2=s.key_field_2[:16]))
    if sdm_faults and status in (KeyProgramStatus.INVALID_PROG_CMD, KeyProgramStatus.INVALID_KEYID,
                                 KeyProgramStatus.INVALID_ENC_ALG):
        raise GeneralProtectionFault(f"SDM: {status.name} faults")
    return status


def tme_capability(params: EngineParams) -> int:
    """IA32_TME_CAPABILITY for these parameters: XTS-128 (bit 0), bypass supported (bit 31),
    MK_TME_MAX_KEYID_BITS [35:32], MK_TME_MAX_KEYS [50:36] (KeyID 0 not counted)."""
    max_keys = min(params.slots - 1, (1 << params.keyid_bits_max) - 1)
    return 1 | 1 << 31 | params.keyid_bits_max << 32 | max_keys << 36


def rdmsr(engine: Engine, msr: int) -> int:
    """RDMSR of a TME MSR; any other MSR is #GP."""
    if msr == IA32_TME_CAPABILITY:
        return tme_capability(engine.params)
    if msr in _MSR_REGS:
        return engine.config_read(_MSR_REGS[msr])
    raise GeneralProtectionFault(f"MSR {msr:#x} is not modelled")


def _contiguous_mask(mask_field: int, width: int) -> bool:
    # A mask describes one naturally aligned region when its ones run unbroken down from the top
    # bit: its complement within the field is 2**k - 1.
    inverse = ~mask_field & ((1 << width) - 1)
    return inverse & (inverse + 1) == 0


def _check_tme_activate(value: int) -> None:
    """The IA32_TME_ACTIVATE rules the configuration port does not check itself (facts §3.3)."""
    if keyid_bits_field(value) and not value & TME_ACTIVATE_ENABLE:
        raise GeneralProtectionFault("TME_ACTIVATE: KEYID_BITS > 0 with ENABLE clear")
    if algs_field(value) & ~TME_ACTIVATE_ALGS_DEFINED:
        undefined = algs_field(value) & ~TME_ACTIVATE_ALGS_DEFINED
        raise GeneralProtectionFault(f"TME_ACTIVATE: undefined MK_TME_CRYPTO_ALGS bit(s) {undefined:#x} "
                                     "(only bits 48-50 exist)")


def wrmsr(engine: Engine, msr: int, value: int) -> None:
    """WRMSR of a TME MSR, with the architectural rules (facts §3.3, §3.4); every refusal is #GP.

    IA32_TME_ACTIVATE:
    * LOCK (bit 0) is read-only: the written bit is ignored and every successful write sets
      it, so a write with ENABLE clear locks too (TME stays off) and any later write is #GP;
    * KEYID_BITS > 0 with ENABLE clear, an undefined MK_TME_CRYPTO_ALGS bit (51-63), a
      reserved bit, a TME policy other than AES-XTS-128 (the only one CAPABILITY lists) or
      KEYID_BITS above MK_TME_MAX_KEYID_BITS → #GP;
    * an RNG failure while enabling is *not* a fault on the real part: the write completes
      with TME neither enabled nor locked, which here means the register stays unchanged.

    IA32_TME_EXCLUDE_MASK: a mask that is not one contiguous run of ones down from
    bit MAXPHYADDR-1 → #GP. Both exclusion MSRs → #GP once TME_ACTIVATE is locked.

    The engine's configuration port (architecture §6) is a hardware port whose LOCK bit is an
    ordinary field; these rules belong to the instruction, so they are checked here.
    """
    if msr not in _MSR_REGS:
        raise GeneralProtectionFault(f"WRMSR to {msr:#x}")
    if not isinstance(value, int) or not 0 <= value < 1 << 64:
        raise GeneralProtectionFault(f"WRMSR {msr:#x}: {value!r} is not a 64-bit value")
    if msr == IA32_TME_ACTIVATE:
        if engine.config_read(ConfigReg.TME_ACTIVATE) & TME_ACTIVATE_LOCK:
            raise GeneralProtectionFault("TME_ACTIVATE is locked: it takes one write per boot")
        _check_tme_activate(value)
        value |= TME_ACTIVATE_LOCK
    elif msr == IA32_TME_EXCLUDE_MASK:
        width = engine.params.pa_width - 12
        if not _contiguous_mask((value >> 12) & ((1 << width) - 1), width):
            raise GeneralProtectionFault(f"EXCLUDE_MASK {value:#x} does not describe one contiguous region")
    status = engine.config_write(_MSR_REGS[msr], value)
    if status in (ConfigStatus.LOCKED, ConfigStatus.INVALID):
        raise GeneralProtectionFault(f"WRMSR {msr:#x}: {status.name}")


def keyid_of(pa: int, keyid_bits: int, pa_width: int) -> int:
    """KeyID = PA[pa_width-1 : pa_width-keyid_bits] (0 when keyid_bits = 0)."""
    return (pa >> (pa_width - keyid_bits)) & ((1 << keyid_bits) - 1) if keyid_bits else 0


def strip_keyid(pa: int, keyid_bits: int, pa_width: int) -> int:
    """The PA without its KeyID bits (what DRAM and the tweak see)."""
    return pa & ((1 << (pa_width - keyid_bits)) - 1)


def with_keyid(pa: int, keyid: int, keyid_bits: int, pa_width: int) -> int:
    """``pa`` carrying ``keyid`` in its top bits, as Linux/TDX build it: ``pa | keyid << x86_phys_bits``."""
    if keyid >> keyid_bits:
        raise ValueError(f"KeyID {keyid} does not fit {keyid_bits} bits")
    return strip_keyid(pa, keyid_bits, pa_width) | keyid << (pa_width - keyid_bits)
