"""The closure loop's scheduling, without a simulator (jobs faked in threads)."""

import concurrent.futures
import io

from sim import campaign, closure
from sim.regressions import REGRESSION
from verif import coverage as fcov


def _fake(monkeypatch, ran):
    def run_job(spec):
        ran.append(spec.job.name)
        return {"name": spec.job.name, "seed": spec.seed, "sim": spec.sim, "build": spec.build,
                "passed": True, "fcov": "", "codecov": "", "codecov_keys": "", "wall_s": 0.0,
                "error": ""}

    monkeypatch.setattr(campaign, "prebuild", lambda jobs, sim, **kw: {j.name: "b" for j in jobs})
    monkeypatch.setattr(campaign, "run_job", run_job)
    monkeypatch.setattr(campaign, "executor",
                        lambda workers, scheduler=None: concurrent.futures.ThreadPoolExecutor(1))


def test_tiny_budget_names_every_empty_bin_of_the_plan(monkeypatch):
    """With one run and nothing sampled, every bin of the claimed covergroups is a hole, and
    the run spent is one of the jobs that sample coverage (they go first)."""
    ran = []
    _fake(monkeypatch, ran)
    engine = [j for j in REGRESSION if j.design.endswith("MEEngineTop") and not j.params]
    result = closure.run_closure(engine, "verilator", workers=1, max_runs=1, max_minutes=5,
                                 out=io.StringIO())
    assert ran == ["uvm_smoke"]  # the first job a testpoint with covergroups claims
    assert result.stop_reason == "run budget spent (1 runs)"
    holes = fcov.holes(result.functional, fcov.load_exclusions())
    assert "mee.kp.command_x_status: SET_KEY_RANDOM x ENTROPY_ERROR" in holes
    assert "mee.dram_protocol.flag: err_dram_rsp_tag" in holes
    assert not any("out_of_range x" in h and "keyid" in h for h in holes)  # excluded (UNR)


def test_reseeds_only_jobs_of_testpoints_with_holes(monkeypatch):
    ran = []
    _fake(monkeypatch, ran)
    jobs = [j for j in REGRESSION if j.name in ("engine_modes", "uvm_reset", "uvm_smoke")]
    closure.run_closure(jobs, "verilator", workers=1, max_runs=6, max_minutes=5,
                        out=io.StringIO())
    # First round: the sampling jobs first; then only uvm_reset/uvm_smoke (their testpoints
    # claim covergroups), never the directed engine_modes again.
    assert ran[:3] == ["uvm_smoke", "uvm_reset", "engine_modes"]
    assert set(ran[3:]) <= {"uvm_smoke", "uvm_reset"} and len(ran) == 6
