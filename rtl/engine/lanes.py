"""How a 512-bit line is spread over ``lanes`` AES pipelines in ``4 // lanes`` beats.

A line is 4 AES blocks. With ``lanes`` pipelines side by side, beat ``k`` of a line carries
blocks ``k * lanes .. k * lanes + lanes - 1``, one per pipeline (lane).
"""

from amaranth import Cat, Const

from .layouts import BLOCK_BITS

__all__ = ["LANES", "lane_name", "block_index", "block_of", "pipeline_options"]

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


def pipeline_options(lanes, regs_per_round):
    """Extra arguments of the AES pipelines of a path with *lanes* lanes.

    The ``4 // lanes`` beats of a line go through each pipeline on consecutive cycles under
    one key, so with three or four registers per round the pipelines share one key step per line
    (``blocks_per_key``: rounds 2-10 with two S-boxes instead of four per block,
    :class:`~rtl.aes.key_schedule.SharedKeyExpansionStep`). With lanes 4 a line is one beat:
    nothing to share.
    """
    beats = 4 // lanes
    return {"blocks_per_key": beats} if regs_per_round >= 3 and beats > 1 else {}
