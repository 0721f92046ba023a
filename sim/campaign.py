"""Run regression jobs through a ``concurrent.futures.Executor``: a local pool or Dask.

A job is a pure record, :class:`JobSpec` (test, seed, simulator, build key, knobs), and its
result a plain dict (pass/fail, counts, times, the run directory and the coverage files it
left). :func:`run_job` is what a worker executes: it runs one cocotb job against a model that
:func:`prebuild` built once beforehand, and never builds (a worker without the model fails
the job with a clear message instead of building it a second time).

:func:`executor` gives a ``ProcessPoolExecutor`` by default, or with ``scheduler`` the
executor of a Dask ``distributed.Client`` connected to that address (``dask scheduler`` on
one machine, ``dask worker ADDRESS`` on every other; every worker needs this checkout and the
build directory at the same path, e.g. on a shared filesystem, see docs/verification.md).

:class:`Progress` draws the one live status line (jobs done and queued, failures, functional
coverage, budget left).
"""

from __future__ import annotations

import concurrent.futures
import contextlib
import dataclasses
import json
import re
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

from . import codecov, runner

__all__ = ["JobSpec", "prebuild", "run_job", "executor", "shutdown", "Progress"]


@dataclasses.dataclass(frozen=True)
class JobSpec:
    """One job: a regression entry run once with one seed on one simulator.

    Attributes
    ----------
    job : sim.regressions.SimJob
    seed : int
    sim : str
    build : str
        The model's build directory name (content hash), made by :func:`prebuild`.
    waves, coverage : bool
    """

    job: object
    seed: int
    sim: str
    build: str = ""
    waves: bool = False
    coverage: bool = False


def prebuild(jobs, sim, *, waves=False, coverage=False):
    """Elaborate and build each distinct design once; ``{job name: build dir name}``."""
    built = {}
    out = {}
    for job in jobs:
        key = (job.design, repr(sorted(job.params.items())), job.verilog_name)
        if key not in built:
            params = runner.simulation_params(sim, job.design, job.params)
            verilog = runner.verilog_for(job.design, params, job.verilog_name, src=coverage)
            _, build_dir = runner.build(sim, verilog, verilog.stem, waves=waves,
                                        coverage=coverage)
            built[key] = build_dir.name
        out[job.name] = built[key]
    return out


def _sim_time_ns(results_xml):
    total = 0.0
    scale = {"fs": 1e-6, "ps": 1e-3, "ns": 1.0, "us": 1e3, "ms": 1e6, "sec": 1e9, "s": 1e9}
    with contextlib.suppress(ET.ParseError, OSError):
        # cocotb 2 records each test's simulated time as a <property> in the unit it names.
        for case in ET.parse(results_xml).getroot().iter("testcase"):
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            unit = scale.get(props.get("sim_time_unit", "ns"), 1.0)
            total += float(props.get("sim_time_duration", 0)) * unit
    return total


def run_job(spec):
    """Run one :class:`JobSpec` (in a worker); returns its result record (a dict)."""
    job, start = spec.job, time.monotonic()
    rec = {"name": job.name, "seed": spec.seed, "sim": spec.sim, "build": spec.build,
           "passed": False, "tests": 0, "failures": 1, "sim_time_ns": 0.0, "wall_s": 0.0,
           "checked": 0, "log": "", "dir": "", "error": "", "waves": "", "fcov": "",
           "codecov": "", "codecov_keys": ""}
    try:
        result = runner.run(job.design, job.module, sim=spec.sim, params=job.params,
                            name=job.verilog_name, test_filter=job.tests, seed=spec.seed,
                            waves=spec.waves, extra_env=job.env, check=False,
                            coverage=spec.coverage, expect_build=spec.build or None)
    except Exception as exc:  # a build or start-up error is a failed job, reported like one
        rec.update(wall_s=time.monotonic() - start, error=f"{type(exc).__name__}: {exc}")
        return rec
    stats = result.test_dir / "stats.json"
    checked = 0
    if stats.is_file():
        checked = int(json.loads(stats.read_text()).get("checked", 0))
    fcov, dat = result.test_dir / "fcov.json", result.test_dir / "coverage.dat"
    table, cov_error = "", ""
    if dat.is_file():
        # Compact here, in the worker: the text file is ~125 MB per engine run.
        table = runner.BUILD_ROOT / "sim" / spec.sim / f"{spec.build or 'model'}.covkeys"
        try:
            dat = codecov.compact(dat, table)
        except (ValueError, OSError) as exc:
            cov_error = f"code coverage: {exc}"
    rec.update(passed=result.failures == 0 and result.tests > 0, tests=result.tests,
               failures=result.failures, sim_time_ns=_sim_time_ns(result.results_xml),
               wall_s=result.wall_s, checked=checked, log=str(result.test_dir / "sim.log"),
               dir=str(result.test_dir), waves=str(result.waves) if result.waves else "",
               fcov=str(fcov) if fcov.is_file() else "",
               codecov=str(dat) if dat.is_file() else "", codecov_keys=str(table))
    if job.expect_error:
        rec["passed"], rec["error"] = _expected_failure(job, rec, result)
    if cov_error:
        rec.update(passed=False, error=cov_error)
    return rec


def _expected_failure(job, rec, result):
    """A job meant to fail passes only if it failed, and for its declared reason."""
    log = Path(rec["log"]).read_text(errors="replace") if Path(rec["log"]).is_file() else ""
    failed = result.failures > 0 or "failed as expected" in log
    if not failed:
        return False, "expected failure did not fail"
    if not re.search(job.expect_error, log):
        return False, f"failed, but not for its declared reason /{job.expect_error}/"
    return True, ""


def executor(workers, scheduler=None):
    """``ProcessPoolExecutor(workers)``, or the executor of a Dask client at *scheduler*."""
    if scheduler:
        try:
            from distributed import Client
        except ImportError as exc:
            raise runner.ToolMissing("--scheduler needs Dask: pip install -e '.[test]' "
                                     "(dask and distributed)") from exc
        client = Client(scheduler)
        pool = client.get_executor()
        pool.client = client  # closed by the caller with the executor
        return pool
    return concurrent.futures.ProcessPoolExecutor(max_workers=max(1, workers))


def shutdown(pool):
    """Shut *pool* down (and its Dask client, if it has one)."""
    pool.shutdown(wait=True)
    client = getattr(pool, "client", None)
    if client is not None:
        client.close()


class Progress:
    """One live status line on a terminal (a plain line per update elsewhere).

    ``update(done, queued, failed, functional=None, deadline=None)``; ``close()`` ends it.
    """

    def __init__(self, out=sys.stdout, live=None):
        self.out = out
        self.live = out.isatty() if live is None else live
        self._last = ""

    def update(self, done, queued, failed, functional=None, deadline=None, note=""):
        parts = [f"{done} done", f"{queued} queued", f"{failed} failed"]
        if functional is not None:
            parts.append(f"functional {functional:.1f}%")
        if deadline is not None:
            left = max(0, deadline - time.monotonic())
            parts.append(f"{int(left // 60)}:{int(left % 60):02d} left")
        line = "[" + " | ".join(parts) + "]" + (f" {note}" if note else "")
        if self.live:
            self.out.write("\r" + line.ljust(len(self._last)))
        else:
            self.out.write(line + "\n")
        self.out.flush()
        self._last = line

    def close(self):
        if self.live and self._last:
            self.out.write("\n")
            self.out.flush()
        self._last = ""
