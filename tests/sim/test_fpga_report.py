"""Fast checks of the ECP5 flow's pieces: report parsers on saved samples, LPF rewrite,
results table, and that the LFSR harness elaborates around a stand-in pipeline.

No synthesis here (``python -m sim.fpga`` takes minutes); the samples in ``fpga_sample/`` were
saved from a real run of the stand-in below:
``python -m sim.fpga spec tests.sim.test_fpga_report:XorChainPipeline``.
"""

import json
from pathlib import Path

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
