"""Sparse, line-addressed DRAM: exactly the bytes the engine wrote, nothing decrypted.

This is what a cold-boot attacker or a DIMM interposer sees. Lines never written read as zero.
Addresses are DRAM addresses (tag bits already removed by the engine), 64-byte aligned.

A DRAM made with a ``size`` (the platform model, :mod:`golden_model.platform`) refuses any
access at or beyond it with :class:`AddressBeyondDram`: a read there is an error, not zeros.
Without a size (the RTL scoreboards' oracle) every address the engine can produce exists.
"""

from __future__ import annotations

from collections.abc import Iterator
from os import PathLike

__all__ = ["Dram", "LINE_BYTES", "AddressBeyondDram"]

LINE_BYTES = 64
_ZERO_LINE = bytes(LINE_BYTES)


class AddressBeyondDram(ValueError):
    """An access to a line address at or beyond the end of DRAM (no memory answers there)."""


class Dram:
    """A sparse array of 64-byte lines.

    Parameters
    ----------
    size : int or None
        Bytes of DRAM (a multiple of 64). ``None``: unbounded.

    Attributes
    ----------
    reads, writes : int
        Access counters (the engine's traffic, not :meth:`peek`/:meth:`poke`).
    """

    def __init__(self, size: int | None = None) -> None:
        if size is not None and (size <= 0 or size % LINE_BYTES):
            raise ValueError(f"DRAM size must be a positive multiple of {LINE_BYTES}, not {size}")
        self.size = size
        self._lines: dict[int, bytes] = {}
        self.reads = 0
        self.writes = 0

    def __repr__(self) -> str:
        size = "" if self.size is None else f" of {self.size:#x} bytes"
        return f"<Dram{size}, {len(self._lines)} lines written>"

    def _check(self, addr: int) -> None:
        if addr < 0 or addr % LINE_BYTES:
            raise ValueError(f"DRAM address {addr:#x} is not a 64-byte line address")
        if self.size is not None and addr >= self.size:
            raise AddressBeyondDram(f"DRAM address {addr:#x} is beyond the end of DRAM ({self.size:#x})")

    def read(self, addr: int) -> bytes:
        """The line at ``addr`` (zero if never written); counted as engine traffic."""
        self.reads += 1
        return self.peek(addr)

    def write(self, addr: int, data: bytes) -> None:
        """Store a 64-byte line at ``addr``; counted as engine traffic."""
        self.writes += 1
        self.poke(addr, data)

    def peek(self, addr: int) -> bytes:
        """Read a line as a probe on the DIMM would: no counters, no engine."""
        self._check(addr)
        return self._lines.get(addr, _ZERO_LINE)

    def poke(self, addr: int, data: bytes) -> None:
        """Overwrite a line from outside the engine (an attacker with physical access)."""
        self._check(addr)
        if len(data) != LINE_BYTES:
            raise ValueError(f"a DRAM line is {LINE_BYTES} bytes, not {len(data)}")
        self._lines[addr] = bytes(data)

    def flip_bit(self, addr: int, bit: int) -> None:
        """Flip bit ``bit`` (0..511, bit 8k+b = bit b of byte k) of the line at ``addr``."""
        if not 0 <= bit < 8 * LINE_BYTES:
            raise ValueError(f"bit {bit} is outside a line")
        line = bytearray(self.peek(addr))
        line[bit // 8] ^= 1 << (bit % 8)
        self.poke(addr, bytes(line))

    def __contains__(self, addr: int) -> bool:
        return addr in self._lines

    def __len__(self) -> int:
        return len(self._lines)

    def lines(self) -> Iterator[tuple[int, bytes]]:
        """``(addr, data)`` of every written line, in address order."""
        for addr in sorted(self._lines):
            yield addr, self._lines[addr]

    def contains_bytes(self, needle: bytes) -> bool:
        """Whether ``needle`` occurs anywhere in the written lines (also across adjacent lines)."""
        return needle in self.image()

    def image(self) -> bytes:
        """Written lines concatenated in address order, gaps between non-adjacent runs as one line of 0xFF."""
        out = bytearray()
        prev = None
        for addr, data in self.lines():
            if prev is not None and addr != prev + LINE_BYTES:
                out += b"\xff" * LINE_BYTES  # a separator, so no match spans a gap
            out += data
            prev = addr
        return bytes(out)

    def dump(self, path: str | PathLike) -> None:
        """Write every written line as ``<addr hex>: <128 hex digits>``, one per line, address order."""
        with open(path, "w") as f:
            for addr, data in self.lines():
                f.write(f"{addr:#014x}: {data.hex()}\n")

    def write_image(self, path: str | PathLike) -> int:
        """Write the raw DRAM image: byte ``a`` of the file is DRAM byte ``a``; returns its length.

        Lines never written are holes (zeros), so the file is as long as the highest written
        line but takes only the written lines on disk. This is the cold-boot attacker's file:
        run ``strings`` on it.
        """
        end = 0
        with open(path, "wb") as f:
            for addr, data in self.lines():
                f.seek(addr)
                f.write(data)
                end = addr + LINE_BYTES
            f.truncate(end)
        return end

    @classmethod
    def load(cls, path: str | PathLike) -> Dram:
        """Read a file written by :meth:`dump`."""
        dram = cls()
        with open(path) as f:
            for text in f:
                addr, data = text.split(":")
                dram.poke(int(addr, 16), bytes.fromhex(data.strip()))
        return dram
