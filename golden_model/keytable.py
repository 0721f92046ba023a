"""Key slots and the key-program command (``docs/architecture.md`` §4, DESIGN §5).

A slot is immutable: programming replaces the slot object. That is the model of the
hardware's atomic key switch: a request that already looked up its slot keeps the old object
(old keys) while every later lookup sees the new one. Keys are write-only: nothing here returns
them except :attr:`Slot.keys`, which exists for scoreboards (the hardware has no such path).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from .named_enum import NamedIntEnum
from .xts import LineCipher, key_bytes, line_cipher

__all__ = [
    "Command",
    "KeyProgramStatus",
    "SlotState",
    "ENC_ALG_XTS_128",
    "ENC_ALG_XTS_256",
    "KeyProgramCommand",
    "Slot",
    "KeyTable",
]

# ENC_ALG is one-hot (KEYID_CTRL[23:8]); bit 0 AES-XTS-128 is supported, bit 2 AES-XTS-256 is not.
ENC_ALG_XTS_128 = 1 << 0
ENC_ALG_XTS_256 = 1 << 2


class Command(enum.IntEnum):
    """Key-program commands (KEYID_CTRL.COMMAND)."""

    SET_KEY_DIRECT = 0
    SET_KEY_RANDOM = 1
    CLEAR_KEY = 2
    NO_ENCRYPT = 3


class KeyProgramStatus(NamedIntEnum):
    """Key-program statuses (PCONFIG RAX values)."""

    PROG_SUCCESS = 0
    INVALID_PROG_CMD = 1
    ENTROPY_ERROR = 2
    INVALID_KEYID = 3
    INVALID_ENC_ALG = 4
    DEVICE_BUSY = 5


class SlotState(NamedIntEnum):
    """What a slot holds."""

    EMPTY = 0  # never programmed, cleared, or reset: Intel treats it as KeyID 0, AMD answers NO_KEY
    KEY = 1
    NO_ENCRYPT = 2


@dataclass(frozen=True)
class KeyProgramCommand:
    """One key-program command as it appears on the port.

    Parameters
    ----------
    keyid : int
        Slot to program (16-bit field).
    command : int
        A :class:`Command` value; any 8-bit value is accepted so that bad commands can be sent.
    enc_alg : int
        One-hot algorithm field (16 bits).
    key1, key2 : bytes or int
        Data key and tweak key (FIPS byte order, or the little-endian integer of those bytes);
        stored as 16 bytes. For SET_KEY_RANDOM they are the software entropy XORed into the draw.
    """

    keyid: int
    command: int
    enc_alg: int = ENC_ALG_XTS_128
    key1: bytes | int = bytes(16)
    key2: bytes | int = bytes(16)

    def __post_init__(self) -> None:
        # Widths of the port's fields: a value that does not fit cannot be sent at all.
        for name, width in (("keyid", 16), ("command", 8), ("enc_alg", 16)):
            value = getattr(self, name)
            if not isinstance(value, int) or not 0 <= value < 1 << width:
                raise ValueError(f"{name} is a {width}-bit field, not {value!r}")
        object.__setattr__(self, "key1", key_bytes(self.key1))
        object.__setattr__(self, "key2", key_bytes(self.key2))

    def __repr__(self) -> str:
        cmd = Command(self.command).name if self.command in Command._value2member_map_ else self.command
        return (f"KeyProgramCommand(keyid={self.keyid}, command={cmd}, enc_alg={self.enc_alg:#x}, "
                "<keys hidden>)")


@dataclass(frozen=True)
class Slot:
    """The contents of one key slot (immutable; replaced as a whole)."""

    state: SlotState = SlotState.EMPTY
    key1: bytes = field(default=bytes(16), repr=False)
    key2: bytes = field(default=bytes(16), repr=False)
    cipher: LineCipher | None = field(default=None, repr=False, compare=False)

    @classmethod
    def with_keys(cls, key1: bytes | int, key2: bytes | int) -> Slot:
        k1, k2 = key_bytes(key1), key_bytes(key2)
        return cls(SlotState.KEY, k1, k2, line_cipher(k1, k2))

    @property
    def keys(self) -> tuple[bytes, bytes] | None:
        """``(key1, key2)`` for a KEY slot, else ``None`` (scoreboard view only)."""
        return (self.key1, self.key2) if self.state is SlotState.KEY else None


_EMPTY = Slot()
_NO_ENCRYPT = Slot(SlotState.NO_ENCRYPT)


class KeyTable:
    """``n`` key slots, all EMPTY after construction and after :meth:`zeroize`.

    Parameters
    ----------
    n : int
        Number of slots (EngineParams.slots).
    """

    def __init__(self, n: int) -> None:
        self.n = n
        self._slots = [_EMPTY] * n

    def __repr__(self) -> str:
        used = sum(s.state is not SlotState.EMPTY for s in self._slots)
        return f"<KeyTable {self.n} slots, {used} in use>"

    def __getitem__(self, index: int) -> Slot:
        return self._slots[index]

    def zeroize(self) -> None:
        """Reset: every slot EMPTY, every key gone."""
        self._slots = [_EMPTY] * self.n

    def set_key(self, index: int, key1: bytes | int, key2: bytes | int) -> None:
        self._slots[index] = Slot.with_keys(key1, key2)

    def clear(self, index: int) -> None:
        self._slots[index] = _EMPTY

    def set_no_encrypt(self, index: int) -> None:
        self._slots[index] = _NO_ENCRYPT
