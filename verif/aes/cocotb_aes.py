"""cocotb tests of one AES-128 pipeline (encrypt or decrypt), checked against ``cryptography``.

Not collected by pytest: ``tests/rtl/aes/test_aes_cocotb.py`` runs it through
:func:`sim.runner.run` on the pipelines of :mod:`rtl.aes.pipeline` (ports ``i__valid``,
``i__payload``, ``o__valid``, ``o__payload``). Knobs (environment):

``AES_DIRECTION``
    ``encrypt`` or ``decrypt`` (which pipeline the DUT is).
``AES_LATENCY``
    The pipeline's ``latency`` attribute; every block must leave exactly that many cycles
    after it entered.
``AES_TAG_WIDTH``
    The DUT's ``tag_width``.
``AES_BLOCKS``
    Blocks in the back-to-back random test (default 10,000).
``CORRUPT_REFERENCE``
    ``1`` flips one bit of one expected block: the scoreboard must then fail (the test that
    proves the check can fail).

The random tests use a different random key on every cycle. One coroutine both drives and
samples: per cycle it awaits the rising edge, writes the next input, awaits ``ReadOnly`` and
reads ``o__valid`` (and ``o__payload`` only when valid), which is two Python wake-ups per cycle.
"""

import os
import random

import cocotb
from cocotb.triggers import ReadOnly, RisingEdge
from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from rtl.aes.reference import last_round_key
from sim.cocotb_utils import reset, start_clock, write_stats

__all__ = ["FIPS197_VECTORS", "reference_block", "make_items", "drive_and_check"]

_MASK128 = (1 << 128) - 1
_CHECKED = 0  # blocks checked by every test of this simulation run


def _le(hexstr):
    return int.from_bytes(bytes.fromhex(hexstr), "little")


#: (name, key, plaintext, ciphertext) from FIPS-197 Appendix B and Appendix C.1.
FIPS197_VECTORS = (
    ("B", _le("2b7e151628aed2a6abf7158809cf4f3c"), _le("3243f6a8885a308d313198a2e0370734"),
     _le("3925841d02dc09fbdc118597196a0b32")),
    ("C.1", _le("000102030405060708090a0b0c0d0e0f"), _le("00112233445566778899aabbccddeeff"),
     _le("69c4e0d86a7b0430d8cdb78070b4c55a")),
)


def reference_block(direction, key, block):
    """AES-128 of one block by ``cryptography`` (ECB), in the project's byte order."""
    cipher = Cipher(algorithms.AES(key.to_bytes(16, "little")), modes.ECB())
    ctx = cipher.encryptor() if direction == "encrypt" else cipher.decryptor()
    out = ctx.update(block.to_bytes(16, "little")) + ctx.finalize()
    return int.from_bytes(out, "little")


def make_items(direction, pairs, tag_width):
    """Per-block ``(block, pipeline_key, tag, expected)`` for (cipher key, input block) pairs."""
    items = []
    for n, (key, block) in enumerate(pairs):
        hw_key = key if direction == "encrypt" else last_round_key(key)
        tag = n & ((1 << tag_width) - 1)
        items.append((block, hw_key, tag, reference_block(direction, key, block)))
    return items


async def drive_and_check(dut, items, valids, latency, tag_width):
    """Drive *items* on the cycles where *valids* is true; check order, latency, tag, data.

    Returns the number of blocks checked. Raises ``AssertionError`` at the first mismatch.
    """
    edge, readonly = RisingEdge(dut.clk), ReadOnly()
    tag_mask = (1 << tag_width) - 1
    pending = []            # (cycle entered, item) in order
    it = iter(items)
    checked = 0
    cycle = 0
    total_cycles = len(valids) + latency + 2
    while cycle < total_cycles:
        await edge
        if cycle < len(valids) and valids[cycle]:
            block, key, tag, expected = next(it)
            dut.i__payload.value = block | (key << 128) | (tag << 256)
            dut.i__valid.value = 1
            pending.append((cycle, tag, expected))
        else:
            dut.i__valid.value = 0
        await readonly
        if dut.o__valid.value:
            assert pending, f"cycle {cycle}: o.valid with no block in flight"
            entered, tag, expected = pending.pop(0)
            payload = int(dut.o__payload.value)
            got_block, got_tag = payload & _MASK128, (payload >> 128) & tag_mask
            assert cycle - entered == latency, (
                f"block {checked} entered on cycle {entered} and left on cycle {cycle}: "
                f"latency {cycle - entered}, expected {latency}")
            assert got_tag == tag, f"block {checked}: tag {got_tag:#x}, expected {tag:#x}"
            assert got_block == expected, (
                f"block {checked} (cycle {cycle}): got {got_block:032x}, expected {expected:032x}")
            checked += 1
        cycle += 1
    assert not pending, f"{len(pending)} blocks never left the pipeline"
    global _CHECKED
    _CHECKED += checked
    write_stats(_CHECKED)  # cumulative over this run's tests, for the regression report
    return checked


def _knobs():
    direction = os.environ.get("AES_DIRECTION", "encrypt")
    assert direction in ("encrypt", "decrypt"), direction
    return (direction, int(os.environ["AES_LATENCY"]), int(os.environ.get("AES_TAG_WIDTH", "8")))


async def _start(dut):
    start_clock(dut)
    dut.i__valid.value = 0
    dut.i__payload.value = 0
    await reset(dut)


@cocotb.test()
async def fips197_vectors(dut):
    """FIPS-197 Appendix B and C.1, back to back, then the same again with a bubble between."""
    direction, latency, tag_width = _knobs()
    await _start(dut)
    pairs = [(key, pt if direction == "encrypt" else ct) for _, key, pt, ct in FIPS197_VECTORS]
    items = make_items(direction, pairs, tag_width)
    # The published answers, not just cryptography's: this also checks the reference.
    for (name, _, pt, ct), item in zip(FIPS197_VECTORS, items, strict=True):
        assert item[3] == (ct if direction == "encrypt" else pt), f"FIPS-197 {name}: reference"
    checked = await drive_and_check(dut, items * 2, [1, 1, 0, 1, 1], latency, tag_width)
    assert checked == 4


@cocotb.test()
async def random_back_to_back(dut):
    """AES_BLOCKS random blocks, one per cycle, each with its own random key."""
    direction, latency, tag_width = _knobs()
    count = int(os.environ.get("AES_BLOCKS", "10000"))
    rng = random.Random(cocotb.RANDOM_SEED)
    pairs = [(rng.getrandbits(128), rng.getrandbits(128)) for _ in range(count)]
    items = make_items(direction, pairs, tag_width)
    if os.environ.get("CORRUPT_REFERENCE") == "1":
        n = rng.randrange(count)
        block, key, tag, expected = items[n]
        items[n] = (block, key, tag, expected ^ (1 << rng.randrange(128)))
    await _start(dut)
    checked = await drive_and_check(dut, items, [1] * count, latency, tag_width)
    assert checked == count
    dut._log.info("%s: %d random blocks checked, one per cycle", direction, checked)


@cocotb.test()
async def random_with_bubbles(dut):
    """2,000 random blocks with random idle cycles: valid and tag travel with the data."""
    direction, latency, tag_width = _knobs()
    rng = random.Random(cocotb.RANDOM_SEED + 1)
    count = 2000
    pairs = [(rng.getrandbits(128), rng.getrandbits(128)) for _ in range(count)]
    items = make_items(direction, pairs, tag_width)
    valids = []
    while sum(valids) < count:
        valids.append(rng.random() < 0.7)
    await _start(dut)
    checked = await drive_and_check(dut, items, valids, latency, tag_width)
    assert checked == count
