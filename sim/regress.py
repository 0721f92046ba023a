"""``python -m sim.regress``: run the cocotb regression in parallel and report it.

Every job of :data:`sim.regressions.REGRESSION` (filtered by ``--tests``) is run once per seed
on one simulator, over ``--jobs`` worker processes. Designs are elaborated and built once,
before the fan-out. The report is a table (test, seed, simulator, result, simulated time, wall
time, transactions checked), a JUnit XML file, and for every failure the exact command that
replays it. A test reports the transactions it checked by writing ``{"checked": N}`` to
``stats.json`` in its working directory (see :func:`sim.cocotb_utils.write_stats`).

Exit status: 0 when every job passed, 1 otherwise, 2 on bad arguments.
"""

import argparse
import concurrent.futures
import fnmatch
import json
import os
import random
import sys
import time
import xml.etree.ElementTree as ET
from pathlib import Path

if __name__ == "__main__":  # name a missing extra before the imports that need it
    from .extras import require_extra
    require_extra("sim", "python -m sim.regress")
from . import runner  # noqa: E402
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


def _run_one(job, sim, seed, waves):
    start = time.monotonic()
    try:
        result = runner.run(job.design, job.module, sim=sim, params=job.params,
                            name=job.verilog_name, test_filter=job.tests,
                            seed=seed, waves=waves, extra_env=job.env, check=False)
    except Exception as exc:  # a build error is a failed job, reported like one
        return {"name": job.name, "seed": seed, "sim": sim, "passed": False, "tests": 0,
                "failures": 1, "sim_time_ns": 0.0, "wall_s": time.monotonic() - start,
                "checked": 0, "log": "", "error": f"{type(exc).__name__}: {exc}"}
    sim_time = 0.0
    try:
        # cocotb 2 records each test's simulated time as a <property> in the time unit it names.
        scale = {"fs": 1e-6, "ps": 1e-3, "ns": 1.0, "us": 1e3, "ms": 1e6, "sec": 1e9, "s": 1e9}
        for case in ET.parse(result.results_xml).getroot().iter("testcase"):
            props = {p.get("name"): p.get("value") for p in case.iter("property")}
            unit = scale.get(props.get("sim_time_unit", "ns"), 1.0)
            sim_time += float(props.get("sim_time_duration", 0)) * unit
    except (ET.ParseError, OSError):
        pass
    checked = 0
    stats = result.test_dir / "stats.json"
    if stats.is_file():
        checked = int(json.loads(stats.read_text()).get("checked", 0))
    return {"name": job.name, "seed": seed, "sim": sim,
            "passed": result.failures == 0 and result.tests > 0, "tests": result.tests,
            "failures": result.failures, "sim_time_ns": sim_time, "wall_s": result.wall_s,
            "checked": checked, "log": str(result.test_dir / "sim.log"), "error": "",
            "waves": str(result.waves) if result.waves else ""}


def _prebuild(jobs, sim, waves):
    """Elaborate and build each distinct design once, so workers never race to build."""
    seen = set()
    for job in jobs:
        key = (job.design, repr(sorted(job.params.items())), job.verilog_name)
        if key in seen:
            continue
        seen.add(key)
        params = runner.simulation_params(sim, job.design, job.params)
        verilog = runner.verilog_for(job.design, params, job.verilog_name)
        runner.build(sim, verilog, verilog.stem, waves=waves)


def run_regression(jobs, sim, seeds, workers, waves=False):
    """Run every (job, seed); return the list of result records."""
    _prebuild(jobs, sim, waves)
    work = [(job, seed) for job in jobs for seed in seeds(job)]
    results = []
    with concurrent.futures.ProcessPoolExecutor(max_workers=max(1, workers)) as pool:
        futures = [pool.submit(_run_one, job, sim, seed, waves) for job, seed in work]
        for fut in concurrent.futures.as_completed(futures):
            rec = fut.result()
            mark = "PASS" if rec["passed"] else "FAIL"
            print(f"  {mark} {rec['name']} seed={rec['seed']} ({rec['wall_s']:.1f} s)", flush=True)
            results.append(rec)
    order = {(job.name, seed): i for i, (job, seed) in enumerate(work)}
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


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.regress", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sim", default=os.environ.get("SIM", "verilator"),
                        help="icarus or verilator (default: verilator)")
    parser.add_argument("--seed", type=int, help="seed for every job (default: random per job)")
    parser.add_argument("--reseed", type=int, default=1, help="seeds per job (default 1)")
    parser.add_argument("--tests", help="comma-separated name filters (globs or substrings)")
    parser.add_argument("--smoke", action="store_true", help="only the CI smoke subset")
    parser.add_argument("--jobs", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--waves", action="store_true", help="write FST waveforms")
    parser.add_argument("--junit", type=Path, help="JUnit XML path "
                        "(default build/regress/<sim>/junit.xml)")
    parser.add_argument("--coverage", action="store_true",
                        help="merge this run's functional coverage and report it on the testplan")
    parser.add_argument("--list", action="store_true", help="list the jobs and exit")
    args = parser.parse_args(argv)
    try:
        runner.check_simulator(args.sim)
    except (ValueError, runner.ToolMissing) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    jobs = select(args.tests, args.smoke)
    if args.list:
        for job in jobs:
            print(f"{job.name:32} {job.module} {'(smoke)' if job.smoke else ''}")
        return 0
    if not jobs:
        print(f"error: no regression job matches TESTS={args.tests!r}; "
              "see `python -m sim.regress --list`", file=sys.stderr)
        return 2
    rng = random.Random()

    def seeds(job):
        if args.seed is not None:
            return [args.seed + i for i in range(args.reseed)]
        return [rng.randrange(1, 2**31) for _ in range(args.reseed)]

    print(f"regression: {len(jobs)} jobs x {args.reseed} seeds on {args.sim}, "
          f"{args.jobs} workers", flush=True)
    start = time.monotonic()
    results = run_regression(jobs, args.sim, seeds, args.jobs, args.waves)
    junit = args.junit or runner.BUILD_ROOT / "regress" / args.sim / "junit.xml"
    _junit(results, junit, args.sim)
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
    status = 1 if failed else 0
    if args.coverage:
        status = max(status, _coverage_report(results, junit))
    return status


def _coverage_report(results, junit):
    """Merge the coverage of this regression's runs and join everything onto the testplan."""
    from verif import coverage, testplan

    run_dirs = [str(Path(r["log"]).parent) for r in results if r["log"]]
    files = coverage.find_files(run_dirs)
    if not files:
        print("error: no run exported functional coverage", file=sys.stderr)
        return 1
    merged = junit.parent / "coverage.xml"
    coverage.merge(files, merged)
    print(f"\nfunctional coverage merged from {len(files)} runs: {merged}")
    return testplan.main([str(junit), "--coverage", str(merged)])


if __name__ == "__main__":
    sys.exit(main())
