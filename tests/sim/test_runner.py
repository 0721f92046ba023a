"""Tests of sim.runner itself: both simulators, failure detection, build caching, bad input."""

import pytest

from sim import runner

DESIGN = "tests.sim.tiny_design:Accumulator"
MODULE = "tests.sim.cocotb_tiny"


@pytest.mark.sim
@pytest.mark.parametrize("sim", runner.SIMULATORS)
def test_runs_and_passes(sim):
    result = runner.run(DESIGN, MODULE, sim=sim, name="accumulator")
    assert result.failures == 0
    # Three tests are collected: one runs; the deliberate failure and the
    # functional-coverage export are skipped unless their variables are set.
    assert result.tests == 3
    assert (result.test_dir / "results.xml").is_file()


@pytest.mark.sim
@pytest.mark.parametrize("sim", runner.SIMULATORS)
def test_failure_is_raised(sim):
    with pytest.raises(runner.SimulationFailed, match=r"1 of 3 cocotb tests failed.*SEED=7"):
        runner.run(DESIGN, MODULE, sim=sim, name="accumulator", seed=7,
                   extra_env={"TINY_FAIL": "1"})


@pytest.mark.sim
def test_failure_counted_without_raising():
    result = runner.run(DESIGN, MODULE, sim="icarus", name="accumulator",
                        extra_env={"TINY_FAIL": "1"}, check=False)
    assert (result.tests, result.failures) == (3, 1)


def test_verilog_is_cached_by_content():
    first = runner.verilog_for(DESIGN, {"width": 8}, "accumulator")
    again = runner.verilog_for(DESIGN, {"width": 8}, "accumulator")
    other = runner.verilog_for(DESIGN, {"width": 9}, "accumulator")
    assert first == again
    assert other != first
    text = first.read_text()
    # always_comb (write_verilog -sv) is what keeps Icarus free of X after reset (G11).
    assert "always_comb" in text or "assign" in text
    assert "module accumulator" in text


def test_unknown_simulator_is_a_clear_error():
    with pytest.raises(ValueError, match="SIM=icarus or SIM=verilator"):
        runner.check_simulator("modelsim")


@pytest.mark.sim
def test_waves_written(tmp_path):
    result = runner.run(DESIGN, MODULE, sim="icarus", name="accumulator", waves=True)
    assert result.waves is not None and result.waves.is_file()
    assert result.waves.stat().st_size > 0


@pytest.mark.sim
def test_icarus_time0_patch_is_needed(monkeypatch):
    """Without icarus_patch an always @* output stays X after reset on Icarus (G11)."""
    # width=7: a Verilog file of its own, so parallel workers never see the unpatched copy.
    monkeypatch.setattr(runner, "icarus_patch", lambda text: text)
    broken = runner.run(DESIGN, MODULE, sim="icarus", params={"width": 7}, name="accumulator",
                        check=False)
    assert broken.failures == 1
    monkeypatch.undo()
    fixed = runner.run(DESIGN, MODULE, sim="icarus", params={"width": 7}, name="accumulator")
    assert fixed.failures == 0


def test_simulator_defaults_fill_only_unset_accepted_params():
    aes = "rtl.aes.pipeline:AESEncryptPipeline"
    assert runner.simulation_params("icarus", aes, {"tag_width": 8}) == {"sbox": "table",
                                                                         "tag_width": 8}
    assert runner.simulation_params("icarus", aes, {"sbox": "composite"}) == {"sbox": "composite"}
    assert runner.simulation_params("verilator", aes, None) == {}
    # A design without an sbox parameter gets nothing it would not accept.
    assert runner.simulation_params("icarus", DESIGN, {"width": 8}) == {"width": 8}


def test_verilator_opt_knob(monkeypatch):
    monkeypatch.delenv(runner.VERILATOR_OPT_ENV, raising=False)
    assert runner.verilator_opt() == "-Os"
    monkeypatch.setenv(runner.VERILATOR_OPT_ENV, "-O0")
    assert runner.verilator_opt() == "-O0"
    monkeypatch.setenv(runner.VERILATOR_OPT_ENV, "-O9; rm -rf /")
    with pytest.raises(ValueError, match="MEMCRYPT_VERILATOR_OPT"):
        runner.verilator_opt()


def test_make_args_reach_only_the_make_command():
    class FakeRunner:
        def _build_command(self):
            return [["verilator", "-cc"], ["make", "-j", "2"]]

    fake = FakeRunner()
    runner._with_make_args(fake, ["OPT_FAST=-O0"])
    assert fake._build_command() == [["verilator", "-cc"], ["make", "-j", "2", "OPT_FAST=-O0"]]
