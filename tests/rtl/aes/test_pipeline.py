"""The AES pipelines and AESLastRoundKey in the Amaranth simulator: FIPS-197 B and C.1 plus
random blocks with a new key every cycle, bubbles, latency and tag, for both
``regs_per_round`` settings (three with the two-cycle styles); and the required stream API."""

import random

import pytest
from amaranth.lib import data
from amaranth.sim import Simulator

from rtl.aes import reference as ref
from rtl.aes.key_schedule import AESLastRoundKey
from rtl.aes.pipeline import AESDecryptPipeline, AESEncryptPipeline
from tests.rtl.storage import storage_of

FIPS = [  # (key, plaintext, ciphertext): FIPS-197 Appendix B and Appendix C.1
    ("2b7e151628aed2a6abf7158809cf4f3c", "3243f6a8885a308d313198a2e0370734",
     "3925841d02dc09fbdc118597196a0b32"),
    ("000102030405060708090a0b0c0d0e0f", "00112233445566778899aabbccddeeff",
     "69c4e0d86a7b0430d8cdb78070b4c55a"),
]


def _le(h):
    return int.from_bytes(bytes.fromhex(h), "little")


def run_pipeline(dut, inputs, valids):
    """Drive ``(block, key, tag)`` *inputs* on the cycles where *valids* is set.

    Returns ``[(cycles in flight, block, tag)]`` in output order.
    """
    outputs = []

    async def tb(ctx):
        it = iter(inputs)
        entered = []
        for cycle in range(len(valids) + dut.latency + 2):
            if cycle < len(valids) and valids[cycle]:
                block, key, tag = next(it)
                ctx.set(dut.i.payload, {"block": block, "key": key, "tag": tag})
                ctx.set(dut.i.valid, 1)
                entered.append(cycle)
            else:
                ctx.set(dut.i.valid, 0)
            await ctx.tick()
            if ctx.get(dut.o.valid):
                outputs.append((cycle + 1 - entered.pop(0), ctx.get(dut.o.payload.block),
                                ctx.get(dut.o.payload.tag)))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return outputs


@pytest.mark.parametrize("regs_per_round,sbox",
                         [(1, "composite"), (2, "composite"), (2, "ebr"), (2, "split"),
                          (3, "ebr"), (3, "split"), (4, "ebr")])
@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
def test_pipeline_fips_and_random(direction, regs_per_round, sbox):
    cls = AESEncryptPipeline if direction == "encrypt" else AESDecryptPipeline
    dut = cls(tag_width=8, regs_per_round=regs_per_round, sbox=sbox)
    assert dut.latency == 10 * regs_per_round
    rng = random.Random(regs_per_round)
    cases = [(_le(k), _le(p), _le(c)) for k, p, c in FIPS]
    for _ in range(40):
        k, p = rng.getrandbits(128), rng.getrandbits(128)
        cases.append((k, p, ref.encrypt_block(p, k)))
    if direction == "encrypt":
        inputs = [(p, k, n) for n, (k, p, c) in enumerate(cases)]
        expected = [c for k, p, c in cases]
    else:
        inputs = [(c, ref.last_round_key(k), n) for n, (k, p, c) in enumerate(cases)]
        expected = [p for k, p, c in cases]
    # Back to back first, then bubbles of 1 and 2 cycles.
    valids = [1] * 20 + [1, 0, 1, 1, 0, 0] * 20
    valids = valids[:[i for i, v in enumerate(valids) if v][len(cases) - 1] + 1]
    outputs = run_pipeline(dut, inputs, valids)
    assert len(outputs) == len(cases)
    for n, ((lat, block, tag), exp) in enumerate(zip(outputs, expected, strict=True)):
        assert lat == dut.latency, f"block {n}: latency {lat}"
        assert tag == n, f"block {n}: tag {tag}"
        assert block == exp, f"block {n}: {block:032x} != {exp:032x}"


def test_zero_tag_width_and_api():
    enc = AESEncryptPipeline()
    enc._MustUse__silence = True  # built only to inspect, never elaborated
    assert enc.tag_width == 0 and enc.latency == 10
    assert enc.i.payload.shape() == data.StructLayout({"block": 128, "key": 128, "tag": 0})
    assert enc.o.payload.shape() == data.StructLayout({"block": 128, "tag": 0})
    assert enc.signature.members["i"].signature.always_ready
    dec = AESDecryptPipeline(tag_width=3, regs_per_round=2)
    dec._MustUse__silence = True
    assert repr(dec) == (
        "AESDecryptPipeline(tag_width=3, regs_per_round=2, sbox='composite')")
    with pytest.raises(ValueError, match="1, 2, 3 or 4"):
        AESEncryptPipeline(regs_per_round=5)
    with pytest.raises(ValueError, match="needs a two-cycle S-box style"):
        AESEncryptPipeline(regs_per_round=3)
    with pytest.raises(ValueError, match="regs_per_round=2 or 3"):
        AESDecryptPipeline(sbox="ebr")
    three = AESEncryptPipeline(regs_per_round=3, sbox="ebr")
    three._MustUse__silence = True
    assert three.latency == 30


def test_last_round_key():
    dut = AESLastRoundKey()
    rng = random.Random(10)
    keys = [_le(FIPS[0][0]), _le(FIPS[1][0])] + [rng.getrandbits(128) for _ in range(6)]
    results = []

    async def tb(ctx):
        for n, key in enumerate(keys):
            ctx.set(dut.i.payload, key)
            ctx.set(dut.i.valid, 1)
            await ctx.tick().until(dut.i.ready)
            ctx.set(dut.i.valid, 0)
            ctx.set(dut.o.ready, 0)
            cycles = 0
            while not ctx.get(dut.o.valid):
                await ctx.tick()
                cycles += 1
            # Held while not taken, and no new key is accepted meanwhile.
            for _ in range(n % 3):
                await ctx.tick()
            assert ctx.get(dut.o.valid) and not ctx.get(dut.i.ready)
            results.append((cycles, ctx.get(dut.o.payload)))
            ctx.set(dut.o.ready, 1)
            await ctx.tick()
            assert not ctx.get(dut.o.valid)

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    assert results == [(dut.latency, ref.last_round_key(k)) for k in keys]
    assert results[0][1] == _le("d014f9a8c9ee2589e13f0cc8b6630ca6")


def _assert_idle(ctx, storage):
    """Every register of *storage* holds zero, a block RAM's read register its word 0 (the
    idle address)."""
    left = {}
    for name, signal in storage.registers.items():
        memory = storage.read_registers.get(name)
        expected = 0 if memory is None else ctx.get(memory[0])
        if ctx.get(signal.as_unsigned()) != expected:
            left[name] = ctx.get(signal.as_unsigned())
    assert not left, f"{len(left)} registers hold values while idle: {sorted(left)[:6]}"


@pytest.mark.parametrize("regs_per_round,sbox",
                         [(1, "table"), (2, "ebr"), (2, "split"), (3, "ebr"), (3, "split"),
                          (4, "ebr")])
@pytest.mark.parametrize("cls", [AESEncryptPipeline, AESDecryptPipeline])
def test_idle_pipeline_holds_zeros(cls, regs_per_round, sbox):
    """Blocks go through, then the input is idle while its payload pins keep changing: once the
    last block has left, every register of the pipeline (enumerated from the design) holds
    zero, and a block RAM's read register holds its word 0 (the idle address): no key and no
    value derived from one stays, and nothing is computed without a valid block."""
    dut = cls(tag_width=8, regs_per_round=regs_per_round, sbox=sbox)
    storage = storage_of(dut)
    rng = random.Random(3)
    assert storage.registers, "no registers found: the enumeration is broken"

    async def tb(ctx):
        for cycle in range(3 * dut.latency):
            ctx.set(dut.i.valid, cycle < 5)
            ctx.set(dut.i.payload, {"block": rng.getrandbits(128), "key": rng.getrandbits(128),
                                    "tag": rng.getrandbits(8)})
            await ctx.tick()
        _assert_idle(ctx, storage)

    sim = Simulator(storage.fragment)
    sim.add_clock(1e-8, domain=storage.domain)
    sim.add_testbench(tb)
    sim.run()


@pytest.mark.parametrize("regs_per_round,blocks_per_key,sbox",
                         [(3, 2, "ebr"), (3, 4, "ebr"), (3, 4, "split"), (4, 2, "ebr"),
                          (4, 4, "ebr")])
@pytest.mark.parametrize("direction", ["encrypt", "decrypt"])
def test_shared_key_steps(direction, regs_per_round, blocks_per_key, sbox):
    """Blocks in groups of ``blocks_per_key`` under one key (the blocks of a line), a new key
    for every group, groups back to back and with gaps: every block is right, in order, after
    the declared latency; and once idle every register holds zero again."""
    cls = AESEncryptPipeline if direction == "encrypt" else AESDecryptPipeline
    dut = cls(tag_width=8, regs_per_round=regs_per_round, sbox=sbox,
              blocks_per_key=blocks_per_key)
    storage = storage_of(dut)
    rng = random.Random(blocks_per_key)
    groups = [(_le(FIPS[0][0]), [_le(FIPS[0][1])] * blocks_per_key)]
    groups += [(rng.getrandbits(128), [rng.getrandbits(128) for _ in range(blocks_per_key)])
               for _ in range(12)]
    inputs, expected, valids = [], [], []
    for n, (key, plains) in enumerate(groups):
        valids += [0] * (n % 3 == 2) * (1 + n % 2)         # some groups back to back
        for plain in plains:
            cipher = ref.encrypt_block(plain, key)
            if direction == "encrypt":
                inputs.append((plain, key, len(inputs) % 256))
                expected.append(cipher)
            else:
                inputs.append((cipher, ref.last_round_key(key), len(inputs) % 256))
                expected.append(plain)
            valids.append(1)
    assert expected[0] == _le(FIPS[0][2]) or direction == "decrypt"
    outputs = run_pipeline(dut, inputs, valids)
    assert [tag for _, _, tag in outputs] == [t for _, _, t in inputs]
    assert {lat for lat, _, _ in outputs} == {dut.latency}
    for n, ((_lat, block, _tag), exp) in enumerate(zip(outputs, expected, strict=True)):
        assert block == exp, f"block {n}: {block:032x} != {exp:032x}"

    async def idle(ctx):
        key = rng.getrandbits(128)
        for cycle in range(3 * dut.latency):
            ctx.set(dut.i.valid, cycle < 2 * blocks_per_key)
            ctx.set(dut.i.payload, {"block": rng.getrandbits(128),
                                    "key": key if cycle < blocks_per_key else key ^ ((1 << 128) - 1),
                                    "tag": rng.getrandbits(8)})
            await ctx.tick()
        _assert_idle(ctx, storage)

    sim = Simulator(storage.fragment)
    sim.add_clock(1e-8, domain=storage.domain)
    sim.add_testbench(idle)
    sim.run()


def test_shared_key_steps_need_three_registers():
    with pytest.raises(ValueError, match="blocks_per_key"):
        AESEncryptPipeline(regs_per_round=2, sbox="ebr", blocks_per_key=4)
    with pytest.raises(ValueError, match="blocks_per_key"):
        AESDecryptPipeline(regs_per_round=3, sbox="ebr", blocks_per_key=3)
