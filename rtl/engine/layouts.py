"""Payload layouts and code enums shared by the engine's units (docs/architecture.md §3-§8).

Every stream of the engine carries a :class:`~amaranth.lib.data.StructLayout` payload built
here, and every code that crosses a port (command, status, error, register number, mode, slot
state) is a shape-typed :class:`~amaranth.lib.enum.Enum`, so the simulator and the generated
Verilog show names instead of numbers. The numeric values are the contract of
docs/architecture.md and of ``golden_model``; do not renumber them.
"""

from amaranth.lib import data, enum

__all__ = [
    "LINE_BITS", "BLOCK_BITS",
    "Mode", "SlotState", "KeyProgramCommand", "KeyProgramStatus", "RspError", "CfgStatus",
    "CfgAddr", "ENC_ALG_XTS_128",
    "TME_ACTIVATE_LAYOUT",
    "up_req_layout", "up_rsp_layout", "dram_req_layout", "dram_rsp_layout",
    "KP_REQ_LAYOUT", "KP_RSP_LAYOUT", "CFG_REQ_LAYOUT", "CFG_RSP_LAYOUT", "ENTROPY_LAYOUT",
    "config_layout", "SLOT_KEYS_LAYOUT",
    "WriteKind", "write_entry_layout", "read_entry_layout", "tweak_tag_layout",
    "READ_CONTEXT_LAYOUT",
    "WRITE_TWEAK_LAYOUT", "completion_layout",
]

#: A cache line: 4 AES blocks, byte k in bits [8k+7:8k] (docs/architecture.md §1).
LINE_BITS = 512
#: One AES block.
BLOCK_BITS = 128

#: KEYID_CTRL.ENC_ALG bit of AES-XTS-128, the only supported algorithm.
ENC_ALG_XTS_128 = 1 << 0


class Mode(enum.Enum, shape=1):
    """Address-decode scheme (MODE register)."""
    INTEL = 0   # TME / TME-MK: KeyID in the top PA bits
    AMD   = 1   # SME / TSME / SEV: C-bit and ASID


class SlotState(enum.Enum, shape=2):
    """What a key slot holds. Kept in flip-flops so that reset empties every slot at once."""
    EMPTY      = 0
    KEY        = 1
    NO_ENCRYPT = 2


class KeyProgramCommand(enum.Enum, shape=8):
    """KEYID_CTRL.COMMAND (docs/architecture.md §4)."""
    SET_KEY_DIRECT = 0
    SET_KEY_RANDOM = 1
    CLEAR_KEY      = 2
    NO_ENCRYPT     = 3


class KeyProgramStatus(enum.Enum, shape=3):
    """Key-program status (PCONFIG RAX values)."""
    PROG_SUCCESS     = 0
    INVALID_PROG_CMD = 1
    ENTROPY_ERROR    = 2
    INVALID_KEYID    = 3
    INVALID_ENC_ALG  = 4
    DEVICE_BUSY      = 5


class RspError(enum.Enum, shape=2):
    """Upstream response error field (docs/architecture.md §5)."""
    OK          = 0
    BAD_ADDRESS = 1
    BAD_KEYID   = 2
    NO_KEY      = 3


class CfgStatus(enum.Enum, shape=2):
    """Configuration-port status (docs/architecture.md §6)."""
    OK            = 0
    LOCKED        = 1
    INVALID       = 2
    ENTROPY_ERROR = 3


class CfgAddr(enum.Enum, shape=4):
    """Configuration register numbers (docs/architecture.md §6)."""
    TME_ACTIVATE = 0
    EXCLUDE_MASK = 1
    EXCLUDE_BASE = 2
    SYSCFG       = 3
    TSME         = 4
    MODE         = 5
    KT_LOCK      = 6


#: TME_ACTIVATE fields, at the positions of IA32_TME_ACTIVATE.
TME_ACTIVATE_LAYOUT = data.StructLayout({
    "lock":       1,    # [0]
    "enable":     1,    # [1]
    "rsvd0":      29,   # [30:2]
    "bypass":     1,    # [31]
    "keyid_bits": 4,    # [35:32]
    "rsvd1":      12,   # [47:36]
    "algs":       16,   # [63:48]
})


def up_req_layout(addr_width=64, asid_width=6, tag_width=8):
    """Upstream request: ``addr``, ``write``, ``asid``, ``tag``, ``data`` (plaintext line)."""
    return data.StructLayout({
        "addr":  addr_width,
        "write": 1,
        "asid":  asid_width,
        "tag":   tag_width,
        "data":  LINE_BITS,
    })


def up_rsp_layout(tag_width=8):
    """Upstream response: ``tag``, ``data`` (plaintext; 0 for writes and errors), ``error``."""
    return data.StructLayout({"tag": tag_width, "data": LINE_BITS, "error": RspError})


def dram_req_layout(pa_width=48, dram_tag_width=5):
    """DRAM request: stripped line ``addr``, ``write``, engine ``tag``, ``data`` as stored.

    Only reads carry a tag: the DRAM answers reads alone (``dram_rsp_layout``) and a write has
    no response, so a write's ``tag`` field is not a tag and is driven 0; it never names an
    outstanding read (the engine's DRAM-side contract, docs/integration.md). Reads' ``data``
    is likewise 0.
    """
    return data.StructLayout({
        "addr":  pa_width,
        "write": 1,
        "tag":   dram_tag_width,
        "data":  LINE_BITS,
    })


def dram_rsp_layout(dram_tag_width=5):
    """DRAM read response: ``tag`` echoed from the request, ``data`` as stored."""
    return data.StructLayout({"tag": dram_tag_width, "data": LINE_BITS})


#: Key-program command (MKTME_KEY_PROGRAM_STRUCT fields the engine uses).
KP_REQ_LAYOUT = data.StructLayout({
    "keyid":   16,
    "command": 8,       # raw, not the enum: values above 3 must be representable (INVALID_PROG_CMD)
    "enc_alg": 16,
    "key1":    128,
    "key2":    128,
})

#: Key-program status.
KP_RSP_LAYOUT = data.StructLayout({"status": KeyProgramStatus})

#: Configuration access (``addr`` raw: numbers above 6 answer INVALID).
CFG_REQ_LAYOUT = data.StructLayout({"addr": 4, "write": 1, "data": 64})

#: Configuration response: status and the register's value after the access.
CFG_RSP_LAYOUT = data.StructLayout({"status": CfgStatus, "data": 64})

#: One 256-bit entropy word: key1 ^= word[127:0], key2 ^= word[255:128].
ENTROPY_LAYOUT = 256


def config_layout(pa_width=48):
    """The decoded configuration the address decode and the key-program checks read.

    It is the live register state (updated at the edge of a configuration response handshake);
    each request samples it once, in its acceptance cycle.
    """
    return data.StructLayout({
        "mode":         Mode,
        "tme_lock":     1,
        "tme_enable":   1,
        "tme_bypass":   1,
        "keyid_bits":   4,
        "algs":         16,
        "excl_enable":  1,
        "excl_mask":    pa_width,   # [PA_WIDTH-1:12] of EXCLUDE_MASK, low 12 bits zero
        "excl_base":    pa_width,   # [PA_WIDTH-1:12] of EXCLUDE_BASE, low 12 bits zero
        "mem_enc_en":   1,          # SYSCFG.MemEncryptionModEn
        "tsme":         1,
        "kt_lock":      1,
    })


#: What the key memory stores per slot: the data key, its last round key (the decrypt
#: pipeline's key, computed once when the slot is programmed) and the tweak key.
SLOT_KEYS_LAYOUT = data.StructLayout({"k1": BLOCK_BITS, "k1_last": BLOCK_BITS, "k2": BLOCK_BITS})


# Internal streams between the engine's components (rtl/engine/engine.py) ------------------------

class WriteKind(enum.Enum, shape=2):
    """What a write-queue entry asks of the DRAM issue (:mod:`rtl.engine.dram_issue`)."""
    WRITE_PLAIN     = 0   # DRAM write of the request's own data
    WRITE_ENCRYPTED = 1   # DRAM write of the next line of the ciphertext stream
    ERROR           = 2   # no DRAM access; answer upstream with the entry's error


def write_entry_layout(pa_width=48, tag_width=8, number_width=7):
    """A write or an errored request waiting for the DRAM issue, in acceptance order.

    ``number`` is the write's number (writes accepted before it, modulo
    ``2**number_width``; see :mod:`rtl.engine.write_queue`). The line itself is not here: a
    plaintext write's line waits in the plaintext-line queue, an encrypted write's comes from
    the write path, each in write order (a 512-bit field in every entry of this deep queue was
    1,536 LUT4 of LUT RAM on the FPGA, docs/fpga.md)."""
    return data.StructLayout({
        "kind":   WriteKind,
        "addr":   pa_width,
        "tag":    tag_width,
        "error":  RspError,
        "number": number_width,
    })


def read_entry_layout(pa_width=48, dram_tag_width=5, number_width=7):
    """A read waiting for the DRAM issue: line, DRAM tag, and the number of the next write at
    its acceptance (the writes numbered before it are older)."""
    return data.StructLayout({"addr": pa_width, "dram_tag": dram_tag_width,
                              "number": number_width})


def tweak_tag_layout(dram_tag_width=5):
    """Sideband of a tweak request: where T_0 goes (the write path, or the read context of
    ``dram_tag``) and the data key that travels with it (K1 for a write, K1's last round key
    for a read), so a request never reads the key table twice (the atomicity rule)."""
    return data.StructLayout({"write": 1, "dram_tag": dram_tag_width, "key": BLOCK_BITS})


#: What a read needs to decrypt its line: T_0 and the decrypt pipeline's key.
READ_CONTEXT_LAYOUT = data.StructLayout({"t0": BLOCK_BITS, "k1_last": BLOCK_BITS})

#: What an encrypted write needs besides its plaintext: T_0 and the data key.
WRITE_TWEAK_LAYOUT = data.StructLayout({"t0": BLOCK_BITS, "k1": BLOCK_BITS})


def completion_layout(tag_width=8):
    """A response without data: a write's completion or a request's error."""
    return data.StructLayout({"tag": tag_width, "error": RspError})
