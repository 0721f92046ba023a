"""How a 512-bit line is spread over ``lanes`` AES pipelines in ``4 // lanes`` beats.

A line is 4 AES blocks. With ``lanes`` pipelines side by side, beat ``k`` of a line carries
blocks ``k * lanes .. k * lanes + lanes - 1``, one per pipeline (lane).
"""

from amaranth import Cat, Const

from .layouts import BLOCK_BITS

__all__ = ["LANES", "lane_name", "block_index", "block_of"]

#: The supported numbers of lanes.
LANES = (1, 2, 4)


def lane_name(base, lane, lanes):
    """Submodule name of one lane's pipeline (``base`` alone when ``lanes`` is 1)."""
    return base if lanes == 1 else f"{base}{lane}"


def block_index(beat, lane, lanes):
    """Block number ``beat * lanes + lane`` of a line (an int when there is one beat)."""
    if lanes == 4:
        return lane
    if lanes == 1:
        return beat
    return Cat(Const(lane, 1), beat[0])


def block_of(line, j):
    """128-bit block ``j`` (int or Value) of ``line``."""
    if isinstance(j, int):
        return line[j * BLOCK_BITS:(j + 1) * BLOCK_BITS]
    return line.word_select(j, BLOCK_BITS)
