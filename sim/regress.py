"""``python -m sim.regress``: run the cocotb regression in parallel and report it.

Every job of :data:`sim.regressions.REGRESSION` (filtered by ``--tests``) is run once per seed
on one simulator, ``--jobs`` at a time, through a ``concurrent.futures`` executor: local
processes, or a Dask cluster with ``--scheduler ADDRESS`` (sim/campaign.py). Designs are
elaborated and built once, before the fan-out; jobs never build. One live line shows the
progress. ``--coverage`` runs the coverage closure campaign instead (sim/closure.py) and
writes ``build/coverage/index.html`` (sim/coverage_report.py).

The report is a table (test, seed, simulator, result, simulated time, wall time, transactions
checked), a JUnit XML file, and for every failure the exact command that replays it. A test
reports the transactions it checked by writing ``{"checked": N}`` to ``stats.json`` in its
working directory (see :func:`sim.cocotb_utils.write_stats`).

Exit status: 0 when every job passed (and, with ``--coverage``, every coverage minimum was
met), 1 otherwise, 2 on bad arguments.
"""

import argparse
import concurrent.futures
import dataclasses
import fnmatch
import os
import random
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

if __name__ == "__main__":  # name a missing extra before the imports that need it
    from .extras import require_extra
    require_extra("sim", "python -m sim.regress")
from golden_model.cli import run_entry_point  # noqa: E402
from verif import coverage as fcov  # noqa: E402
from verif import testplan  # noqa: E402

from . import campaign, closure, codecov, coverage_report, runner  # noqa: E402
from .regressions import REGRESSION  # noqa: E402

__all__ = ["select", "run_regression", "main"]


def select(pattern=None, smoke_only=False):
    """Jobs whose name matches the comma-separated glob *pattern*."""
    jobs = [job for job in REGRESSION if job.smoke or not smoke_only]
    if pattern:
        globs = [p.strip() for p in pattern.split(",") if p.strip()]
        jobs = [job for job in jobs
                if any(fnmatch.fnmatch(job.name, g if any(c in g for c in "*?[") else f"*{g}*")
                       for g in globs)]
    return jobs


def run_regression(jobs, sim, seeds, workers, waves=False, *, scheduler=None, coverage=False,
                   out=sys.stdout):
    """Run every (job, seed) once through the executor; return the result records in order."""
    builds = campaign.prebuild(jobs, sim, waves=waves, coverage=coverage)
    specs = [campaign.JobSpec(job, seed, sim, builds[job.name], waves, coverage)
             for job in jobs for seed in seeds(job)]
    results = []
    progress = campaign.Progress(out)
    pool = campaign.executor(workers, scheduler)
    try:
        futures = [pool.submit(campaign.run_job, spec) for spec in specs]
        progress.update(0, len(futures), 0)
        for fut in concurrent.futures.as_completed(futures):
            rec = fut.result()
            results.append(rec)
            failed = sum(not r["passed"] for r in results)
            progress.update(len(results), len(futures) - len(results), failed,
                            note=f"{'PASS' if rec['passed'] else 'FAIL'} {rec['name']} "
                                 f"seed={rec['seed']} ({rec['wall_s']:.1f} s)")
    finally:
        progress.close()
        campaign.shutdown(pool)
    order = {(s.job.name, s.seed): i for i, s in enumerate(specs)}
    results.sort(key=lambda r: order[(r["name"], r["seed"])])
    return results


def _table(results):
    head = ("test", "seed", "sim", "result", "sim time (us)", "wall (s)", "checked")
    rows = [(r["name"], str(r["seed"]), r["sim"], "PASS" if r["passed"] else "FAIL",
             f"{r['sim_time_ns'] / 1000:.1f}", f"{r['wall_s']:.1f}", str(r["checked"]))
            for r in results]
    widths = [max(len(h), *(len(row[i]) for row in rows)) for i, h in enumerate(head)]
    line = "  ".join(h.ljust(w) for h, w in zip(head, widths, strict=True))
    out = [line, "-" * len(line)]
    out += ["  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)) for row in rows]
    return "\n".join(out)


def _junit(results, path, sim):
    suite = ET.Element("testsuite", name=f"memcrypt.{sim}", tests=str(len(results)),
                       failures=str(sum(not r["passed"] for r in results)))
    for r in results:
        case = ET.SubElement(suite, "testcase", classname=f"regress.{sim}",
                             name=f"{r['name']}.seed{r['seed']}", time=f"{r['wall_s']:.3f}")
        case.set("sim_time_ns", f"{r['sim_time_ns']:.0f}")
        if not r["passed"]:
            failure = ET.SubElement(case, "failure", message=r["error"] or "cocotb test failed")
            failure.text = f"log: {r['log']}\nreplay: {replay_command(r)}"
    path.parent.mkdir(parents=True, exist_ok=True)
    ET.ElementTree(suite).write(path, encoding="unicode", xml_declaration=True)


def replay_command(rec):
    """The exact command that re-runs one job with the same seed on the same simulator."""
    return f"make sim SIM={rec['sim']} TESTS={rec['name']} SEED={rec['seed']}"


def _add_arguments(parser):
    parser.add_argument("--sim", default=os.environ.get("SIM", "verilator"),
                        help="icarus or verilator (default: verilator)")
    parser.add_argument("--seed", type=int, help="seed for every job (default: random per job)")
    parser.add_argument("--reseed", type=int, default=1, help="seeds per job (default 1)")
    parser.add_argument("--tests", help="comma-separated name filters (globs or substrings)")
    parser.add_argument("--smoke", action="store_true", help="only the CI smoke subset")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2,
                        help="jobs run at once (local processes, or tasks on the Dask cluster)")
    parser.add_argument("--scheduler", metavar="ADDRESS",
                        help="run the jobs on a Dask cluster (e.g. tcp://host:8786) instead of "
                             "local processes; workers need this checkout and build/ shared")
    parser.add_argument("--waves", action="store_true", help="write FST waveforms")
    parser.add_argument("--junit", type=Path, help="JUnit XML path "
                        "(default build/regress/<sim>/junit.xml)")
    parser.add_argument("--list", action="store_true", help="list the jobs and exit")
    cov = parser.add_argument_group(
        "coverage closure (--coverage; Verilator)",
        "Reseed until every functional bin is hit or the budget is spent, then write "
        "build/coverage/index.html; exit 1 below any minimum (defaults: OpenTitan V2).")
    cov.add_argument("--coverage", action="store_true",
                     help="closure campaign with code and functional coverage")
    cov.add_argument("--max-runs", type=int, default=DEFAULT_MAX_RUNS,
                     help=f"run budget (default {DEFAULT_MAX_RUNS})")
    cov.add_argument("--max-minutes", type=float, default=DEFAULT_MAX_MINUTES,
                     help=f"time budget in minutes (default {DEFAULT_MAX_MINUTES:g})")
    defaults = closure.Thresholds()
    for field in dataclasses.fields(closure.Thresholds):
        cov.add_argument(f"--min-{field.name}", type=float, default=getattr(defaults, field.name),
                         help=f"minimum {field.name} coverage in %% (default "
                              f"{getattr(defaults, field.name):g})")
    cov.add_argument("--exclusions", type=Path, default=fcov.EXCLUSIONS,
                     help="reviewed exclusions (default verif/coverage_exclusions.yaml)")
    cov.add_argument("--out", type=Path, help="report directory (default build/coverage)")


#: The default closure budget of ``make coverage`` (measured in docs/verification.md).
DEFAULT_MAX_RUNS = 60
DEFAULT_MAX_MINUTES = 45.0
#: The jobs ``--coverage`` runs by default: the engine with its default parameters (one
#: coverage build), every test of it.
COVERAGE_DESIGN = ("rtl.engine.top:MEEngineTop", {})


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.regress", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    _add_arguments(parser)
    args = parser.parse_args(argv)
    try:
        runner.check_simulator(args.sim)
        if args.coverage and args.sim != "verilator":
            raise ValueError("code coverage needs Verilator: use --sim verilator")
        if args.coverage:
            fcov.load_exclusions(args.exclusions)
            codecov.load_exclusions(args.exclusions)
    except (ValueError, runner.ToolMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    jobs = select(args.tests, args.smoke)
    if args.coverage and not args.tests:
        jobs = [j for j in jobs if (j.design, j.params) == COVERAGE_DESIGN]
    if args.list:
        for job in jobs:
            print(f"{job.name:32} {job.module} {'(smoke)' if job.smoke else ''}")
        return 0
    if not jobs:
        print(f"error: no regression job matches TESTS={args.tests!r}; "
              "see `python -m sim.regress --list`", file=sys.stderr)
        return 2
    junit = args.junit or runner.BUILD_ROOT / "regress" / args.sim / "junit.xml"
    start = time.monotonic()
    if args.coverage:
        return _closure(args, jobs, junit, start)
    rng = random.Random()

    def seeds(job):
        if args.seed is not None:
            return [args.seed + i for i in range(args.reseed)]
        return [rng.randrange(1, 2**31) for _ in range(args.reseed)]

    print(f"regression: {len(jobs)} jobs x {args.reseed} seeds on {args.sim}, "
          f"{args.jobs} workers{' on ' + args.scheduler if args.scheduler else ''}", flush=True)
    try:
        results = run_regression(jobs, args.sim, seeds, args.jobs, args.waves,
                                 scheduler=args.scheduler)
    except (OSError, runner.ToolMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return _summary(results, junit, args.sim, start)


def _summary(results, junit, sim, start):
    _junit(results, junit, sim)
    print()
    print(_table(results))
    failed = [r for r in results if not r["passed"]]
    print(f"\n{len(results) - len(failed)} passed, {len(failed)} failed "
          f"in {time.monotonic() - start:.0f} s; JUnit: {junit}")
    for r in failed:
        print(f"FAILED {r['name']} seed={r['seed']} sim={r['sim']}"
              f"{': ' + r['error'] if r['error'] else ''}\n  log:    {r['log']}\n"
              f"  replay: {replay_command(r)}")
    for r in results:
        if r.get("waves"):
            print(f"waves: {r['waves']}")
    return 1 if failed else 0


def _closure(args, jobs, junit, start):
    """``--coverage``: the closure campaign, its report and the verdict."""
    print(f"coverage closure: {len(jobs)} jobs on {args.sim}, {args.jobs} at a time, budget "
          f"{args.max_runs} runs / {args.max_minutes:g} min", flush=True)
    try:
        result = closure.run_closure(jobs, args.sim, workers=args.jobs, max_runs=args.max_runs,
                                     max_minutes=args.max_minutes, scheduler=args.scheduler,
                                     seed=args.seed, exclusions=args.exclusions)
    except (OSError, runner.ToolMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    status = _summary(result.results, junit, args.sim, start)
    thresholds = closure.Thresholds(**{f.name: getattr(args, f"min_{f.name}")
                                       for f in dataclasses.fields(closure.Thresholds)})
    code, verdicts = closure.evaluate(result, thresholds, exclusions=args.exclusions)
    out = args.out or runner.BUILD_ROOT / "coverage"
    index = coverage_report.write_report(
        out, result, code, verdicts, plan=testplan.load_plan(), junit=junit,
        replay=replay_command, exclusions=args.exclusions, root=runner.REPO_ROOT,
        functional_min=thresholds.functional)
    print(f"\ncoverage closure stopped: {result.stop_reason}")
    for what, pct, minimum, ok in verdicts:
        print(f"  {what:32s} {pct:6.1f} %  (minimum {minimum:g} %)  {'ok' if ok else 'BELOW'}")
    empty = fcov.holes(result.functional, fcov.load_exclusions(args.exclusions))
    for hole in empty:
        print(f"  empty bin: {hole}")
    print(f"report: {index}")
    if not all(ok for *_, ok in verdicts):
        status = 1
    return status


if __name__ == "__main__":
    sys.exit(run_entry_point(main))
