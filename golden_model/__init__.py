"""Golden model of the inline memory-encryption engine (AMD SME/TSME/SEV, Intel TME/TME-MK).

It is the executable form of ``docs/architecture.md``: the RTL scoreboards use :class:`Engine`
as their oracle, and the demos use the CPU side (:mod:`golden_model.cpu`) to show what the
encryption protects against. ``docs/golden_model.md`` explains how to read and use it.
"""

from .config import ConfigReg, ConfigStatus, Mode
from .cpu import Cache, Cpu, Guest, PageFault, PageTables
from .dram import Dram
from .engine import Decode, DramAccess, Engine, EngineParams, ErrorCode, Pending, Request, Response
from .entropy import EntropySource
from .keytable import (
    ENC_ALG_XTS_128,
    ENC_ALG_XTS_256,
    Command,
    KeyProgramCommand,
    KeyProgramStatus,
    SlotState,
)
from .mktme import GeneralProtectionFault, KeyProgramStruct, pconfig
from .xe import XeCipher
from .xts import (
    LineCipher,
    decrypt_lines_batch,
    encrypt_lines_batch,
    xts_decrypt_line,
    xts_encrypt_line,
)

__all__ = [
    "Cache", "Command", "ConfigReg", "ConfigStatus", "Cpu", "Decode", "Dram", "DramAccess",
    "ENC_ALG_XTS_128", "ENC_ALG_XTS_256", "Engine", "EngineParams", "EntropySource", "ErrorCode",
    "GeneralProtectionFault", "Guest", "KeyProgramCommand", "KeyProgramStatus", "KeyProgramStruct",
    "LineCipher", "Mode", "PageFault", "PageTables", "Pending", "Request", "Response", "SlotState",
    "XeCipher", "decrypt_lines_batch", "encrypt_lines_batch", "pconfig", "xts_decrypt_line",
    "xts_encrypt_line",
]
