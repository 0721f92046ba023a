"""Every AES round function and key-schedule step in the Amaranth simulator vs the reference.

Combinational checks: the S-boxes exhaustively (both styles, both directions), the 128-bit
transformations on 300 random states each.
"""

import random

import pytest
from amaranth.sim import Simulator

from rtl.aes import reference as ref
from rtl.aes.key_schedule import InvKeyExpansionStep, KeyExpansionStep
from rtl.aes.round import (
    AddRoundKey,
    InvMixColumns,
    InvShiftRows,
    InvSubBytes,
    MixColumns,
    ShiftRows,
    SubBytes,
)
from rtl.aes.sbox import COMB_SBOX_IMPLS, SBox

N_VECTORS = 300


def _check_comb(dut, vectors, drive, expect, label):
    """Drive each vector with *drive*, compare ``dut.o`` with *expect*; return mismatches."""
    bad = []

    async def tb(ctx):
        for v in vectors:
            drive(ctx, v)
            got = ctx.get(dut.o)
            if got != expect(v):
                bad.append((v, got, expect(v)))

    sim = Simulator(dut)
    sim.add_testbench(tb)
    sim.run()
    assert not bad, f"{label}: {len(bad)} mismatches, first {bad[0]}"


@pytest.mark.parametrize("sbox", COMB_SBOX_IMPLS)
@pytest.mark.parametrize("inverse", [False, True])
def test_sbox_exhaustive(sbox, inverse):
    dut = SBox(inverse=inverse, sbox=sbox)
    table = ref.INV_SBOX if inverse else ref.SBOX
    _check_comb(dut, range(256), lambda ctx, v: ctx.set(dut.i, v), table.__getitem__, repr(dut))


def _states(seed):
    rng = random.Random(seed)
    return [0, (1 << 128) - 1] + [rng.getrandbits(128) for _ in range(N_VECTORS)]


ONE_INPUT = [
    (lambda: SubBytes(), ref.sub_bytes),
    (lambda: SubBytes(sbox="table"), ref.sub_bytes),
    (lambda: InvSubBytes(), ref.inv_sub_bytes),
    (lambda: InvSubBytes(sbox="table"), ref.inv_sub_bytes),
    (lambda: ShiftRows(), ref.shift_rows),
    (lambda: InvShiftRows(), ref.inv_shift_rows),
    (lambda: MixColumns(), ref.mix_columns),
    (lambda: InvMixColumns(), ref.inv_mix_columns),
]


@pytest.mark.parametrize("make,model", ONE_INPUT, ids=lambda x: getattr(x, "__name__", ""))
def test_state_transformation(make, model):
    dut = make()
    _check_comb(dut, _states(1), lambda ctx, v: ctx.set(dut.i, v), model, repr(dut))


def test_add_round_key():
    dut = AddRoundKey()
    rng = random.Random(3)
    pairs = [(rng.getrandbits(128), rng.getrandbits(128)) for _ in range(N_VECTORS)]

    def drive(ctx, v):
        ctx.set(dut.i, v[0])
        ctx.set(dut.key, v[1])

    _check_comb(dut, pairs, drive, lambda v: ref.add_round_key(*v), "AddRoundKey")


@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("r", [1, 9, 10])
def test_key_step_constant_rcon(inverse, r):
    cls = InvKeyExpansionStep if inverse else KeyExpansionStep
    model = ref.inv_key_expansion_step if inverse else ref.key_expansion_step
    dut = cls(rcon=ref.RCON[r])
    _check_comb(dut, _states(r), lambda ctx, v: ctx.set(dut.i, v),
                lambda v: model(v, ref.RCON[r]), repr(dut))


def test_key_step_rcon_port():
    dut = KeyExpansionStep()
    rng = random.Random(4)
    vectors = [(rng.getrandbits(128), ref.RCON[rng.randrange(1, 11)]) for _ in range(N_VECTORS)]

    def drive(ctx, v):
        ctx.set(dut.i, v[0])
        ctx.set(dut.rcon_i, v[1])

    _check_comb(dut, vectors, drive, lambda v: ref.key_expansion_step(*v), repr(dut))


def test_a_wrong_model_is_caught():
    """The comparison itself can fail: ShiftRows checked against InvShiftRows' model."""
    dut = ShiftRows()
    with pytest.raises(AssertionError, match="mismatches"):
        _check_comb(dut, _states(5), lambda ctx, v: ctx.set(dut.i, v), ref.inv_shift_rows, "x")


def test_parameter_validation():
    with pytest.raises(ValueError):
        SBox(sbox="rom")
    with pytest.raises(ValueError, match="sbox must be one of"):
        SBox(sbox="ebr")          # block-RAM lookups are registered: pipelines only
    with pytest.raises(ValueError, match="sbox must be one of"):
        SubBytes(sbox="ebr")
    with pytest.raises(ValueError):
        KeyExpansionStep(rcon=256)
