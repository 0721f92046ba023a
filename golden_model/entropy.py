"""Deterministic 256-bit entropy source with injectable failures.

The engine draws one 256-bit word for SET_KEY_RANDOM and for the TME key when TME_ACTIVATE.ENABLE
is written (architecture §4, §6). The hardware never waits for entropy: "not available" is an
immediate ENTROPY_ERROR. This model makes both sides reproducible: word ``n`` of seed ``s`` is
``SHA-256(b"memcrypt-entropy" || s (8 bytes LE) || n (8 bytes LE))`` read as a little-endian
integer, so a testbench can drive the RTL's entropy port with exactly the words the model uses.
"""

from __future__ import annotations

import hashlib

__all__ = ["EntropySource"]


class EntropySource:
    """A reproducible entropy stream that can be made to fail.

    Parameters
    ----------
    seed : int
        Selects the stream (0 .. 2**64-1).

    Attributes
    ----------
    available : bool
        While ``False`` every :meth:`draw` answers ``None`` (the RNG is not ready).
    words_drawn : int
        Number of words handed out so far; a failed draw consumes no word.
    """

    def __init__(self, seed: int = 0) -> None:
        if not 0 <= seed < 1 << 64:
            raise ValueError(f"seed must fit in 64 bits, not {seed!r}")
        self.seed = seed
        self.available = True
        self.words_drawn = 0
        self._fail_next = 0

    def __repr__(self) -> str:
        return f"EntropySource(seed={self.seed})"

    def fail_next(self, n: int = 1) -> None:
        """Make the next ``n`` draws answer ``None``."""
        self._fail_next += n

    def peek(self) -> int:
        """The word the next successful draw will return (for testbenches; consumes nothing)."""
        return self.word(self.words_drawn)

    def word(self, index: int) -> int:
        """Word ``index`` of this stream."""
        digest = hashlib.sha256(b"memcrypt-entropy" + self.seed.to_bytes(8, "little")
                                + index.to_bytes(8, "little")).digest()
        return int.from_bytes(digest, "little")

    def draw(self) -> int | None:
        """The next 256-bit word, or ``None`` when entropy is not available right now."""
        if not self.available:
            return None
        if self._fail_next:
            self._fail_next -= 1
            return None
        value = self.word(self.words_drawn)
        self.words_drawn += 1
        return value
