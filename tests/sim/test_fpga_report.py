"""Fast checks of the ECP5 flow's pieces: report parsers on saved samples, LPF rewrite,
results table, and that the LFSR harness elaborates around a stand-in pipeline.

No synthesis here (``python -m sim.fpga`` takes minutes); the samples in ``fpga_sample/`` were
saved from a real run of the stand-in below:
``python -m sim.fpga spec tests.sim.test_fpga_report:XorChainPipeline``.
"""

import json
import os
from pathlib import Path

import pytest
from amaranth import Module, Signal
from amaranth.lib import data, stream, wiring
from amaranth.lib.wiring import In, Out
from amaranth.sim import Simulator

from rtl.fpga import PipelineHarness
from sim import fpga

__all__ = ["XorChainPipeline"]

SAMPLE = Path(__file__).parent / "fpga_sample"


class XorChainPipeline(wiring.Component):
    """Stand-in with the AES pipelines' stream signature (docs/architecture.md §7).

    Each of ``stages`` registered stages XORs the block with the key and rotates the key, so
    every output bit depends on LFSR-driven inputs. ``latency == stages``.
    """

    def __init__(self, tag_shape=8, stages=4):
        self.latency = stages
        self._stages = stages
        super().__init__({
            "i": In(stream.Signature(data.StructLayout({"block": 128, "key": 128, "tag": tag_shape}),
                                     always_ready=True)),
            "o": Out(stream.Signature(data.StructLayout({"block": 128, "tag": tag_shape}),
                                      always_ready=True)),
        })

    def elaborate(self, platform):
        m = Module()
        valid, block, key, tag = self.i.valid, self.i.p.block, self.i.p.key, self.i.p.tag
        for _ in range(self._stages):
            n_valid, n_block, n_key, n_tag = Signal(), Signal(128), Signal(128), Signal.like(tag)
            m.d.sync += [n_valid.eq(valid), n_block.eq(block ^ key), n_key.eq(key.rotate_left(8)),
                         n_tag.eq(tag)]
            valid, block, key, tag = n_valid, n_block, n_key, n_tag
        m.d.comb += [self.o.valid.eq(valid), self.o.p.block.eq(block), self.o.p.tag.eq(tag)]
        return m


def test_nextpnr_report_parser():
    metrics = fpga.parse_nextpnr_report(json.loads((SAMPLE / "report.json").read_text()))
    assert metrics["lut4"] > 0 and metrics["ff"] > 0
    assert metrics["ebr"] == 0 and metrics["dsp"] == 0
    assert metrics["lut4_available"] == 83640 and metrics["ebr_available"] == 208
    assert "clk" in metrics["clock"]
    assert 50 < metrics["fmax_mhz"] < 1000
    assert abs(metrics["target_mhz"] - 150) < 0.1


def test_nextpnr_log_fmax_is_the_last_line():
    log = (SAMPLE / "nextpnr.log").read_text()
    report = fpga.parse_nextpnr_report(json.loads((SAMPLE / "report.json").read_text()))
    assert abs(fpga.parse_nextpnr_log_fmax(log) - report["fmax_mhz"]) < 0.01
    assert fpga.parse_nextpnr_log_fmax("no timing here") is None


def test_yosys_stat_parser():
    cells = fpga.parse_yosys_stat(json.loads((SAMPLE / "stat.json").read_text()))
    assert cells["TRELLIS_FF"] > 0 and cells["LUT4"] > 0
    assert not [name for name in cells if name.startswith("$") and name != "$scopeinfo"]


def test_derived_metrics_and_baseline_row():
    base = fpga.derive_metrics(dict(fpga.BASELINE), 21)
    assert base["gbps"] == round(128 * 143 / 1000, 2)
    assert base["mbps_per_klut"] == round(128 * 143 / 39.984, 1)


def test_plausibility_flags_a_trimmed_pipeline():
    trimmed = {"ff": 300, "lut4": 200, "ebr": 0}
    assert len(fpga.plausibility_warnings(trimmed, {"LUT4": 200})) == 2
    real = {"ff": 6000, "lut4": 30000, "ebr": 0}
    assert fpga.plausibility_warnings(real, {"LUT4": 30000, "TRELLIS_FF": 6000}) == []


def test_lpf_target_rewrite():
    text = fpga.LPF.read_text()
    assert 'FREQUENCY PORT "clk" 25 MHZ;' in text
    new = fpga.lpf_for_target(text, 175)
    assert 'FREQUENCY PORT "clk" 175 MHZ;' in new and 'SITE "G2"' in new


def test_results_section_roundtrip(tmp_path):
    run = fpga.derive_metrics({"lut4": 20000, "ff": 6000, "ebr": 0, "dsp": 0, "fmax_mhz": 150.0,
                               "target_mhz": 150.0}, 11)
    run.update({"direction": "encrypt", "sbox": "logic", "regs_per_round": 1})
    results = {"runs": {"encrypt-logic-r1": run}, "updated": "today"}
    md = tmp_path / "results.md"
    md.write_text("# Results\n\nkeep me\n")
    fpga.update_results_md(results, md)
    fpga.update_results_md(results, md)  # idempotent: one section, other text kept
    text = md.read_text()
    assert text.count(f"<!-- BEGIN {fpga.SECTION} -->") == 1 and "keep me" in text
    assert "| AES-128 encrypt | logic | 1 | 20,000 |" in text
    assert "| 39,984 | 6,824 |" in text and "| 458 |" in text


def test_harness_elaborates_and_drives_every_port():
    harness = PipelineHarness(lambda: XorChainPipeline(stages=3))
    assert harness.input_bits == 128 + 128 + 8
    assert harness.output_bits == 1 + 128 + 8
    seen = set()

    async def bench(ctx):
        await ctx.tick().repeat(3)
        ctx.set(harness.en, 1)
        for _ in range(12):
            await ctx.tick()
            seen.add(ctx.get(harness.leds))

    sim = Simulator(harness)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert len(seen) > 4  # LFSR-fed: the folded output changes from cycle to cycle


def test_latency_by_simulation():
    assert fpga.measure_latency(XorChainPipeline(stages=5)) == 5


class HandshakeStub(wiring.Component):
    """A design with backpressure on both sides (the engine's port shape): a one-entry buffer."""

    i: In(stream.Signature(16))
    o: Out(stream.Signature(16))

    def elaborate(self, platform):
        m = Module()
        full = Signal()
        m.d.comb += [self.i.ready.eq(~full | self.o.ready), self.o.valid.eq(full)]
        with m.If(self.i.valid & self.i.ready):
            m.d.sync += [self.o.payload.eq(self.i.payload), full.eq(1)]
        with m.Elif(self.o.ready):
            m.d.sync += full.eq(0)
        return m


def test_random_handshakes_drive_valid_and_ready_from_lfsrs():
    """With random_handshakes the input valid and the output ready both toggle (LFSR bits),
    so neither handshake path is constant; without it ready is tied to 1."""
    harness = PipelineHarness(HandshakeStub, random_handshakes=True)
    assert harness.input_bits == 16 + 1 + 1          # payload, i.valid, o.ready
    plain = PipelineHarness(HandshakeStub)
    plain._MustUse__silence = plain.pipeline._MustUse__silence = True   # inspected only
    assert plain.input_bits == 16
    stub = harness.pipeline
    seen = {"valid": set(), "ready": set()}

    async def bench(ctx):
        ctx.set(harness.en, 1)
        for _ in range(40):
            await ctx.tick()
            seen["valid"].add(ctx.get(stub.i.valid))
            seen["ready"].add(ctx.get(stub.o.ready))

    sim = Simulator(harness)
    sim.add_clock(1e-8)
    sim.add_testbench(bench)
    sim.run()
    assert seen == {"valid": {0, 1}, "ready": {0, 1}}


def test_block_breakdown_groups_modules_by_instance_path():
    top = "mee_engine_fpga_l1"
    modules = {
        top: {"LUT4": 40, "TRELLIS_FF": 60},
        f"{top}.lfsr0": {"LUT4": 2, "TRELLIS_FF": 128},
        f"{top}.pipeline": {},
        f"{top}.pipeline.core": {"LUT4": 900, "TRELLIS_FF": 300, "CCU2C": 5},
        f"{top}.pipeline.core.enc_aes": {"LUT4": 100, "TRELLIS_FF": 200},
        f"{top}.pipeline.core.enc_aes.r1_sub_bytes.rom0": {"DP16KD": 1},
        f"{top}.pipeline.core.keytable": {"LUT4": 50, "TRELLIS_DPR16X4": 96},
        "unrelated": {"LUT4": 7},
    }
    blocks = fpga.block_breakdown(modules, top)
    assert blocks["harness"] == {"lut4": 42, "ff": 188, "ebr": 0, "lutram": 0,
                                 "lut_positions": 42}
    assert blocks["enc_aes"]["ebr"] == 1 and blocks["enc_aes"]["lut4"] == 100
    assert blocks["engine (glue)"]["lut_positions"] == 900 + 2 * 5
    assert blocks["keytable"]["lut_positions"] == 50 + 6 * 96
    assert set(blocks) == {"harness", "engine (glue)", "enc_aes", "keytable"}


def test_engine_budget_check_and_section():
    ok = {"lut4": 40000, "ebr": 160, "fmax_mhz": 131.0}
    assert [row[3] for row in fpga.engine_budget_check(ok)] == [True, True, True]
    bad = {"lut4": 60000, "ebr": 170, "fmax_mhz": 101.0}
    assert [row[3] for row in fpga.engine_budget_check(bad)] == [False, False, False]
    assert [row[3] for row in fpga.engine_budget_check({"lut4": 1, "ebr": 1})][2] is False
    # The engine's own LUT4 count (without the harness) is what the budget is about.
    with_harness = {"lut4": 50500, "lut4_engine": 50100, "ebr": 160, "fmax_mhz": 131.0}
    assert fpga.engine_budget_check(with_harness)[0][2:] == (50100, True)
    run = {"lanes": 1, "sbox": "ebr", "regs_per_round": 2, "fits": True, "lut4": 40000,
           "lut4_engine": 39500,
           "lut4_fraction": 0.472, "ff": 1, "ebr": 160, "dsp": 0, "fmax_mhz": 131.0,
           "read_latency_cycles": 23, "read_latency_ns": 175.6,
           "blocks": {"enc_aes": {"lut4": 1, "ff": 2, "ebr": 80, "lutram": 0,
                                  "lut_positions": 1}}}
    text = fpga.render_engine_section({"runs": {"lanes1-ebr-r2": run}, "updated": "today"})
    assert "| lanes 1, sbox ebr, 2 regs/round | yes | 40,000 | 39,500 | 47.2 |" in text
    assert "| enc_aes | 1 | 1 | 2 | 80 | 0 |" in text


def test_critical_path_parser():
    text = (SAMPLE / "nextpnr.log").read_text()
    path = fpga.parse_nextpnr_critical_path(text)
    assert path == {"source": "run_TRELLIS_FF_Q.Q", "sink": "lfsr0.state_TRELLIS_FF_Q_4.CE",
                    "logic_ns": 0.52, "routing_ns": 1.91, "steps": 1}
    assert fpga.parse_nextpnr_critical_path("Info: no timing here\n") is None


def test_engine_blocks_keeps_the_core_and_its_children_only():
    top = "t"
    modules = [top, f"{top}.lfsr0", f"{top}.pipeline", f"{top}.pipeline.core",
               f"{top}.pipeline.core.tweak", f"{top}.pipeline.core.tweak.aes",
               f"{top}.pipeline.core.keytable", f"{top}.pipeline.core.keytable.regs"]
    assert fpga.engine_blocks(top, modules) == [
        f"{top}.pipeline.core", f"{top}.pipeline.core.tweak", f"{top}.pipeline.core.keytable"]


def test_undriven_inputs_counts_yosys_warnings():
    log = ("Warning: Wire t.\\r_TRELLIS_FF_Q_CE is used but has no driver.\n"
           "Warning: Wire t.\\r_TRELLIS_FF_Q_M is used but has no driver.\n"
           "Warning: Wire t.\\x has multiple drivers.\n")
    assert fpga.undriven_inputs(log) == 2
    assert fpga.undriven_inputs("End of script.\n") == 0


@pytest.mark.parametrize("option, value", [("lut_mapper", "abc10"), ("placer", "annealing")])
def test_unknown_flow_option_is_refused(tmp_path, option, value):
    harness = PipelineHarness(lambda: XorChainPipeline(stages=1))
    harness._MustUse__silence = True
    with pytest.raises(ValueError, match=f"{option} must be one of"):
        fpga.run_flow(harness, "xor", tmp_path, env=fpga.tool_env(), log=lambda *_: None,
                      **{option: value})


def test_classic_abc_flow_places_a_small_design(tmp_path):
    """The engine's mapper (synth_ecp5 with `abc -lut 4` in place of ABC9) gives a netlist
    with every cell input driven, which the engine's placer places; the figures come back."""
    metrics = fpga.run_flow(PipelineHarness(lambda: XorChainPipeline(stages=2)), "xor",
                            tmp_path, lut_mapper="abc", placer=fpga.ENGINE_PLACER,
                            aes_checks=False, log=lambda *_: None)
    assert metrics["lut4"] >= 2 * 128 and metrics["ff"] >= 2 * (128 + 128)
    assert metrics["fmax_mhz"] > 0
    assert fpga.undriven_inputs((tmp_path / "yosys.log").read_text()) == 0
    assert "abc -dress -lut 4" in (tmp_path / "yosys.log").read_text()
    banner = {"static": "Running Static placer", "heap": "Running main analytical placer",
              "sa": "Running simulated annealing placer"}[fpga.ENGINE_PLACER]
    assert banner in (tmp_path / "nextpnr.log").read_text()


def test_synthesis_cache_reuses_only_unchanged_products(tmp_path):
    """The Yosys products are reused only for the same Verilog and script, and only while
    every product is the one that run wrote."""
    (tmp_path / "stat.json").write_text("{}")
    (tmp_path / "x.json").write_text("netlist")
    inputs = ["module x; endmodule", "-p", "synth_ecp5"]
    cache = fpga._SynthesisCache(tmp_path, "yosys.log", inputs, ["stat.json", "x.json"])
    assert not cache.valid()
    cache.save(12.34)
    again = fpga._SynthesisCache(tmp_path, "yosys.log", inputs, ["stat.json", "x.json"])
    assert again.valid() and again.seconds == 12.3
    other_script = fpga._SynthesisCache(tmp_path, "yosys.log", [inputs[0], "-p", "synth_ice40"],
                                        ["stat.json", "x.json"])
    assert not other_script.valid()
    (tmp_path / "x.json").write_text("overwritten by another run")
    assert not fpga._SynthesisCache(tmp_path, "yosys.log", inputs,
                                    ["stat.json", "x.json"]).valid()
    (tmp_path / "x.json").unlink()
    assert not fpga._SynthesisCache(tmp_path, "yosys.log", inputs,
                                    ["stat.json", "x.json"]).valid()


def test_more_block_rams_than_the_device_has_is_not_placed(tmp_path, monkeypatch):
    """A netlist over the device's DP16KD count is reported as not fitting, by how much,
    without running nextpnr (which would go on spreading it for minutes)."""
    monkeypatch.setattr(fpga, "DEVICE_EBR", -1)
    with pytest.raises(fpga.DoesNotFit, match="1 over"):
        fpga.run_flow(PipelineHarness(lambda: XorChainPipeline(stages=1)), "xor", tmp_path,
                      lut_mapper="abc", aes_checks=False, log=lambda *_: None)
    assert (tmp_path / "stat.json").exists() and not (tmp_path / "nextpnr.log").exists()


def test_docs_without_results_leaves_the_committed_tables(tmp_path, monkeypatch, capsys):
    """The results JSON lives under build/: on a machine without it, `python -m sim.fpga docs`
    must not replace the committed FPGA table with an empty one."""
    md = tmp_path / "results.md"
    text = "<!-- BEGIN fpga-aes -->\n| measured row |\n<!-- END fpga-aes -->\n"
    md.write_text(text)
    monkeypatch.setattr(fpga, "RESULTS_MD", md)
    monkeypatch.setattr(fpga, "RESULTS_JSON", tmp_path / "missing.json")
    monkeypatch.setattr(fpga, "ENGINE_RESULTS_JSON", tmp_path / "missing_engine.json")
    assert fpga.main(["docs"]) == 0
    assert md.read_text() == text
    assert "left as it is" in capsys.readouterr().out


def test_a_killed_tool_is_no_result_and_a_failing_one_is(tmp_path):
    """A tool ended by a signal says nothing about the design (no 'does not fit' row); a
    tool that exits non-zero is a failure with its log's tail."""
    with pytest.raises(fpga.ToolInterrupted, match="signal 15"):
        fpga._run(["sh", "-c", "kill -TERM $$"], tmp_path, dict(os.environ), "killed.out")
    with pytest.raises(RuntimeError, match="exit 3") as failed:
        fpga._run(["sh", "-c", "echo why; exit 3"], tmp_path, dict(os.environ), "failed.out")
    assert not isinstance(failed.value, fpga.ToolInterrupted) and "why" in str(failed.value)
