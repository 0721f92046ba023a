"""Hex dumps for the demos: the bytes themselves, as ``xxd`` would show them."""

from __future__ import annotations

__all__ = ["hexdump", "side_by_side", "printable"]


def printable(data: bytes) -> str:
    """``data`` as ASCII, non-printable bytes as dots."""
    return "".join(chr(b) if 0x20 <= b < 0x7F else "." for b in data)


def hexdump(data: bytes, base: int = 0, width: int = 16, indent: str = "  ") -> str:
    """``xxd``-style lines: address, hex bytes, ASCII."""
    lines = []
    for off in range(0, len(data), width):
        chunk = data[off:off + width]
        lines.append(f"{indent}{base + off:010x}: {chunk.hex(' '):{3 * width - 1}s}  {printable(chunk)}")
    return "\n".join(lines)


def side_by_side(columns: list[tuple[str, bytes]], base: int = 0, width: int = 8, indent: str = "  ") -> str:
    """Several buffers of one length next to each other, ``width`` bytes per row, each column
    hex then ASCII, under its title."""
    cell = 3 * width - 1 + 2 + width
    head = indent + " " * 12 + " | ".join(f"{title[:cell]:{cell}s}" for title, _ in columns)
    rows = [head]
    length = max(len(data) for _, data in columns)
    for off in range(0, length, width):
        cells = []
        for _, data in columns:
            chunk = data[off:off + width]
            cells.append(f"{chunk.hex(' '):{3 * width - 1}s}  {printable(chunk):{width}s}")
        rows.append(f"{indent}{base + off:010x}: " + " | ".join(cells))
    return "\n".join(rows)
