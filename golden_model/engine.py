"""The engine at transaction level: the scoreboard's oracle for the RTL.

Everything here is ``docs/architecture.md`` §3-§6 as executable rules:

* :meth:`Engine.config_write` / :meth:`Engine.config_read`: the configuration port (§6).
* :meth:`Engine.key_program`: the key-program port, checks in the order of §4.
* :meth:`Engine.decode`: the address decode of §3 (common check, then Intel or AMD rules).
* :meth:`Engine.request`: one upstream request → one response, with the exact DRAM access.

Atomic key switch (§4): :meth:`Engine.accept` looks the slot up and keeps it (slots are
immutable, so a later key program cannot change it); :meth:`Engine.complete` does the DRAM
access with those keys. :meth:`Engine.request` is ``complete(accept(req))``. A scoreboard that
models requests in flight calls ``accept`` when the RTL accepts a request and ``complete`` when
the response appears.

Misuse that the hardware port could express (a bad address, a bad KeyID, a bad command) gets
the platform's error or status. Python exceptions are raised only for values that do not fit
the port at all (an address wider than ADDR_WIDTH, write data that is not 64 bytes).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from .config import (
    EXCLUDE_ENABLE,
    LOCKED_BY_TME_ACTIVATE,
    SYSCFG_MEM_ENCRYPTION_MOD_EN,
    TME_ACTIVATE_BYPASS,
    TME_ACTIVATE_ENABLE,
    TME_ACTIVATE_LOCK,
    ConfigReg,
    ConfigStatus,
    Mode,
    algs_field,
    keyid_bits_field,
    writable_mask,
)
from .dram import Dram
from .entropy import EntropySource
from .keytable import (
    ENC_ALG_XTS_128,
    Command,
    KeyProgramCommand,
    KeyProgramStatus,
    KeyTable,
    Slot,
    SlotState,
)
from .named_enum import NamedIntEnum

__all__ = [
    "EngineParams",
    "ErrorCode",
    "Request",
    "Response",
    "DramAccess",
    "Decode",
    "Pending",
    "Engine",
]

_LINE = 64
_ZERO_LINE = bytes(_LINE)
_MASK256_LO = (1 << 128) - 1


@dataclass(frozen=True)
class EngineParams:
    """Elaboration parameters (architecture §3); the RTL takes the same names in lower case.

    Parameters
    ----------
    slots : int
        Key slots. KeyID / ASID index them; slot ``slots-1`` holds the AMD host (SME/TSME) key.
    keyid_bits_max : int
        Largest TME_ACTIVATE.KEYID_BITS.
    pa_width : int
        Physical address width including KeyID bits / C-bit.
    c_bit_pos : int
        AMD C-bit position (< pa_width).
    asid_width, addr_width, tag_width : int
        Widths of the request's ASID, address and tag fields.
    """

    slots: int = 64
    keyid_bits_max: int = 6
    pa_width: int = 48
    c_bit_pos: int = 47
    asid_width: int = 6
    addr_width: int = 64
    tag_width: int = 8

    def __post_init__(self) -> None:
        if not 2 <= self.slots <= 1 << 15:
            raise ValueError(f"slots must be in [2, 32768], not {self.slots}")
        if not 0 <= self.keyid_bits_max <= 15 or self.keyid_bits_max >= self.pa_width - 12:
            raise ValueError(f"keyid_bits_max {self.keyid_bits_max} does not fit pa_width {self.pa_width}")
        if not 12 < self.c_bit_pos < self.pa_width <= self.addr_width <= 64:
            raise ValueError("need 12 < c_bit_pos < pa_width <= addr_width <= 64")
        if self.asid_width < 1 or self.tag_width < 1:
            raise ValueError("asid_width and tag_width must be positive")


class ErrorCode(NamedIntEnum):
    """Upstream response error field (architecture §5)."""

    OK = 0
    BAD_ADDRESS = 1
    BAD_KEYID = 2
    NO_KEY = 3


@dataclass(slots=True)
class Request:
    """One upstream request. ``data`` is the 64-byte write data (``None`` for reads)."""

    addr: int
    write: bool = False
    asid: int = 0
    data: bytes | None = None
    tag: int = 0


@dataclass(slots=True)
class DramAccess:
    """Exactly what went to DRAM: the stripped address and the (cipher- or plain-) text.

    For a write ``data`` is what was written; for a read it is what DRAM returned.
    """

    addr: int
    write: bool
    data: bytes


@dataclass(slots=True)
class Response:
    """One upstream response. ``data`` is zero for writes and errors; ``dram`` is ``None`` on error."""

    tag: int
    data: bytes
    error: ErrorCode = ErrorCode.OK
    dram: DramAccess | None = None


@dataclass(slots=True)
class Decode:
    """The result of the address decode.

    Attributes
    ----------
    error : ErrorCode
        OK, or why the request is refused (it then never reaches DRAM).
    dram_addr : int or None
        The address sent to DRAM and used as the XTS tweak (``None`` on error).
    encrypted : bool
        Whether the line passes through XTS.
    slot : int or None
        Key slot used when encrypted.
    keys : tuple of bytes or None
        ``(key1, key2)`` when encrypted (for scoreboards; the hardware never exposes keys).
    """

    error: ErrorCode
    dram_addr: int | None = None
    encrypted: bool = False
    slot: int | None = None
    keys: tuple[bytes, bytes] | None = field(default=None, repr=False)
    slot_contents: Slot | None = field(default=None, repr=False, compare=False)


@dataclass(slots=True)
class Pending:
    """A request accepted upstream, holding the slot contents it was accepted with."""

    request: Request
    decode: Decode


class Engine:
    """Transaction-level model of the inline memory-encryption engine.

    Parameters
    ----------
    params : EngineParams
        Elaboration parameters.
    entropy : EntropySource
        The 256-bit entropy stream (SET_KEY_RANDOM, TME key).
    dram : Dram or None
        Backing memory; a new empty one if ``None``.

    Attributes
    ----------
    dram : Dram
    keys : KeyTable
    """

    def __init__(self, params: EngineParams | None = None, entropy: EntropySource | None = None,
                 dram: Dram | None = None) -> None:
        self.params = params if params is not None else EngineParams()
        self.entropy = entropy if entropy is not None else EntropySource(seed=0)
        self.dram = dram if dram is not None else Dram()
        self.keys = KeyTable(self.params.slots)
        p = self.params
        self._pa_mask = (1 << p.pa_width) - 1
        self._addr_limit = 1 << p.addr_width
        self._asid_limit = 1 << p.asid_width
        self._tag_limit = 1 << p.tag_width
        self._c_bit = 1 << p.c_bit_pos
        self._below_c_mask = self._c_bit - 1
        self._host_slot = p.slots - 1
        self._regs = dict.fromkeys(ConfigReg, 0)
        self._refresh()

    def __repr__(self) -> str:
        return f"Engine(params={self.params!r}, entropy={self.entropy!r}, dram={self.dram!r})"

    # Configuration port ------------------------------------------------------------------------

    def _refresh(self) -> None:
        # Decode inputs derived from the registers, recomputed on every register change so that
        # a request costs only a few integer operations.
        r = self._regs
        tme = r[ConfigReg.TME_ACTIVATE]
        self.mode = Mode(r[ConfigReg.MODE] & 1)
        self._tme_enabled = bool(tme & TME_ACTIVATE_ENABLE)
        self._k = keyid_bits_field(tme) if self._tme_enabled else 0
        self._bypass = bool(tme & TME_ACTIVATE_BYPASS)
        self._algs = algs_field(tme)
        xmask = r[ConfigReg.EXCLUDE_MASK]
        self._exclude = bool(xmask & EXCLUDE_ENABLE)
        self._exclude_mask = xmask & ~0xFFF
        self._exclude_base = r[ConfigReg.EXCLUDE_BASE] & self._exclude_mask
        self._sme_enabled = bool(r[ConfigReg.SYSCFG] & SYSCFG_MEM_ENCRYPTION_MOD_EN)
        self._tsme = bool(r[ConfigReg.TSME] & 1)
        self._kt_lock = bool(r[ConfigReg.KT_LOCK] & 1)
        self._keyid_shift = self.params.pa_width - self._k
        self._intel_dram_mask = (1 << self._keyid_shift) - 1

    def config_access(self, addr: int, write: bool, data: int = 0) -> tuple[ConfigStatus, int]:
        """The configuration port: ``(status, register value after the access)``.

        Write checks, in this order (architecture §6 lists them in this order):
        1. address above 6, a reserved bit set, or KEYID_BITS > KEYID_BITS_MAX → INVALID;
        2. TME_ACTIVATE.LOCK = 1 and the register is TME_ACTIVATE, EXCLUDE_MASK, EXCLUDE_BASE or
           MODE, or KT_LOCK = 1 and the register is KT_LOCK → LOCKED;
        3. TME_ACTIVATE with ENABLE = 1 and no entropy word → ENTROPY_ERROR.
        A refused write changes nothing. Reads of addresses above 6 answer INVALID with 0.
        """
        if addr not in ConfigReg._value2member_map_:
            return ConfigStatus.INVALID, 0
        reg = ConfigReg(addr)
        if not write:
            return ConfigStatus.OK, self._regs[reg]
        if not isinstance(data, int) or not 0 <= data < 1 << 64:
            raise ValueError(f"configuration data is 64 bits, not {data!r}")
        if data & ~writable_mask(reg, self.params.pa_width):
            return ConfigStatus.INVALID, self._regs[reg]
        if reg is ConfigReg.TME_ACTIVATE and keyid_bits_field(data) > self.params.keyid_bits_max:
            return ConfigStatus.INVALID, self._regs[reg]
        if reg in LOCKED_BY_TME_ACTIVATE and self._regs[ConfigReg.TME_ACTIVATE] & TME_ACTIVATE_LOCK:
            return ConfigStatus.LOCKED, self._regs[reg]
        if reg is ConfigReg.KT_LOCK and self._kt_lock:
            # Sticky like the MSR lock: only reset unlocks the key table.
            return ConfigStatus.LOCKED, self._regs[reg]
        if reg is ConfigReg.TME_ACTIVATE and data & TME_ACTIVATE_ENABLE:
            # Every accepted write that sets ENABLE draws a fresh TME key into slot 0.
            word = self.entropy.draw()
            if word is None:
                return ConfigStatus.ENTROPY_ERROR, self._regs[reg]
            self.keys.set_key(0, word & _MASK256_LO, word >> 128)
        self._regs[reg] = data
        self._refresh()
        return ConfigStatus.OK, data

    def config_write(self, reg: int, value: int) -> ConfigStatus:
        """Write a configuration register; see :meth:`config_access` for the checks."""
        return self.config_access(reg, True, value)[0]

    def config_read(self, reg: int) -> int:
        """Read a configuration register (0 for an address above 6). Keys are never readable."""
        return self.config_access(reg, False)[1]

    # Key-program port --------------------------------------------------------------------------

    def key_program(self, cmd: KeyProgramCommand) -> KeyProgramStatus:
        """Execute one key-program command; the first failing check gives the status.

        Check order (architecture §4):
        1. COMMAND > 3 → INVALID_PROG_CMD;
        2. KeyID: 0, >= SLOTS, or (Intel) > 2**k - 1 with k the active KEYID_BITS
           (0 while TME is disabled) → INVALID_KEYID;
        3. ENC_ALG not exactly AES-XTS-128, or (Intel) not allowed by TME_ACTIVATE.ALGS
           → INVALID_ENC_ALG (for every command, CLEAR and NO_ENCRYPT included);
        4. KT_LOCK → DEVICE_BUSY;
        5. SET_KEY_RANDOM without an entropy word → ENTROPY_ERROR.
        Only PROG_SUCCESS changes the table.
        """
        if cmd.command > Command.NO_ENCRYPT:
            return KeyProgramStatus.INVALID_PROG_CMD
        keyid = cmd.keyid
        if keyid == 0 or keyid >= self.params.slots:
            return KeyProgramStatus.INVALID_KEYID
        intel = self.mode is Mode.INTEL
        if intel and keyid > (1 << self._k) - 1:
            return KeyProgramStatus.INVALID_KEYID
        if cmd.enc_alg != ENC_ALG_XTS_128 or (intel and not cmd.enc_alg & self._algs):
            return KeyProgramStatus.INVALID_ENC_ALG
        if self._kt_lock:
            return KeyProgramStatus.DEVICE_BUSY
        command = Command(cmd.command)
        if command is Command.SET_KEY_DIRECT:
            self.keys.set_key(keyid, cmd.key1, cmd.key2)
        elif command is Command.SET_KEY_RANDOM:
            word = self.entropy.draw()
            if word is None:
                return KeyProgramStatus.ENTROPY_ERROR
            k1 = int.from_bytes(cmd.key1, "little") ^ (word & _MASK256_LO)
            k2 = int.from_bytes(cmd.key2, "little") ^ (word >> 128)
            self.keys.set_key(keyid, k1, k2)
        elif command is Command.CLEAR_KEY:
            self.keys.clear(keyid)
        else:
            self.keys.set_no_encrypt(keyid)
        return KeyProgramStatus.PROG_SUCCESS

    # Address decode ----------------------------------------------------------------------------

    def _slot_decode(self, dram_addr: int, index: int, slot: Slot) -> Decode:
        return Decode(ErrorCode.OK, dram_addr, True, index, slot.keys, slot)

    def decode(self, addr: int, asid: int = 0) -> Decode:
        """Decode an upstream address (architecture §3). ``asid`` is ignored in Intel mode."""
        # 1. Common: line aligned, nothing above PA_WIDTH.
        if addr & 0x3F or addr > self._pa_mask:
            return Decode(ErrorCode.BAD_ADDRESS)
        if self.mode is Mode.INTEL:
            return self._decode_intel(addr)
        return self._decode_amd(addr, asid)

    def _decode_intel(self, addr: int) -> Decode:
        keyid = addr >> self._keyid_shift  # 0 when k = 0: addr < 2**PA_WIDTH
        if keyid >= self.params.slots:
            return Decode(ErrorCode.BAD_KEYID)
        dram_addr = addr & self._intel_dram_mask
        if not self._tme_enabled:
            return Decode(ErrorCode.OK, dram_addr)
        if keyid:
            slot = self.keys[keyid]
            if slot.state is SlotState.KEY:
                return self._slot_decode(dram_addr, keyid, slot)
            if slot.state is SlotState.NO_ENCRYPT:
                return Decode(ErrorCode.OK, dram_addr)
            # EMPTY: behaves like KeyID 0.
        if self._bypass:
            return Decode(ErrorCode.OK, dram_addr)
        if self._exclude and dram_addr & self._exclude_mask == self._exclude_base:
            return Decode(ErrorCode.OK, dram_addr)
        return self._slot_decode(dram_addr, 0, self.keys[0])

    def _decode_amd(self, addr: int, asid: int) -> Decode:
        if addr >> (self.params.c_bit_pos + 1):
            return Decode(ErrorCode.BAD_ADDRESS)  # above the C-bit: beyond the reduced PA width
        c = addr & self._c_bit
        dram_addr = addr & self._below_c_mask
        if not self._sme_enabled:
            return Decode(ErrorCode.OK, dram_addr)
        if asid and c:
            if asid >= self._host_slot:
                return Decode(ErrorCode.BAD_KEYID)
            index = asid
        elif c or self._tsme:
            index = self._host_slot
        else:
            return Decode(ErrorCode.OK, dram_addr)
        slot = self.keys[index]
        if slot.state is SlotState.KEY:
            return self._slot_decode(dram_addr, index, slot)
        if slot.state is SlotState.NO_ENCRYPT:
            return Decode(ErrorCode.OK, dram_addr)
        return Decode(ErrorCode.NO_KEY)

    # Requests ----------------------------------------------------------------------------------

    def _check_request(self, req: Request) -> None:
        if not 0 <= req.addr < self._addr_limit:
            raise ValueError(f"address {req.addr:#x} does not fit ADDR_WIDTH={self.params.addr_width}")
        if not 0 <= req.asid < self._asid_limit:
            raise ValueError(f"asid {req.asid} does not fit ASID_WIDTH={self.params.asid_width}")
        if not 0 <= req.tag < self._tag_limit:
            raise ValueError(f"tag {req.tag} does not fit TAG_WIDTH={self.params.tag_width}")
        if req.write and (req.data is None or len(req.data) != _LINE):
            raise ValueError("a write carries exactly 64 bytes of data")

    def accept(self, req: Request) -> Pending:
        """Accept a request upstream: decode it and capture the slot contents it will use."""
        self._check_request(req)
        return Pending(req, self.decode(req.addr, req.asid))

    def complete(self, pending: Pending) -> Response:
        """Perform the DRAM access of an accepted request and build its response."""
        req, d = pending.request, pending.decode
        if d.error:
            return Response(req.tag, _ZERO_LINE, d.error, None)
        cipher = d.slot_contents.cipher if d.encrypted else None
        if req.write:
            data = bytes(req.data)
            if cipher is not None:
                data = cipher.encrypt(d.dram_addr, data)
            self.dram.write(d.dram_addr, data)
            return Response(req.tag, _ZERO_LINE, ErrorCode.OK, DramAccess(d.dram_addr, True, data))
        raw = self.dram.read(d.dram_addr)
        data = cipher.decrypt(d.dram_addr, raw) if cipher is not None else raw
        return Response(req.tag, data, ErrorCode.OK, DramAccess(d.dram_addr, False, raw))

    def request(self, req: Request) -> Response:
        """One request, start to finish: ``complete(accept(req))``."""
        return self.complete(self.accept(req))

    def read(self, addr: int, asid: int = 0) -> Response:
        """Shorthand for a read request."""
        return self.request(Request(addr, False, asid))

    def write(self, addr: int, data: bytes, asid: int = 0) -> Response:
        """Shorthand for a write request."""
        return self.request(Request(addr, True, asid, data))

    def reset(self) -> None:
        """Reset: keys zeroized (all slots EMPTY), registers 0; DRAM keeps its content."""
        self.keys.zeroize()
        self._regs = dict.fromkeys(ConfigReg, 0)
        self._refresh()
