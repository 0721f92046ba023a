"""Coverage closure: run seeds until every functional bin is hit or the budget is spent.

:func:`run_closure` (``make coverage``, ``python -m sim.regress --coverage``) builds each
design once with Verilator code coverage, runs every selected job once, then keeps reseeding
the jobs that can fill the remaining holes (the tests of the testpoints whose covergroups
still have empty bins; every job that exports functional coverage when the plan names none),
``workers`` at a time, until functional coverage is complete or ``max_runs`` runs or
``max_minutes`` minutes are spent. After each run it merges that run's functional coverage and
records a point of the closure curve. :func:`evaluate` merges the code coverage and compares
everything with the thresholds.
"""

from __future__ import annotations

import collections
import dataclasses
import itertools
import random
import sys
import time
from pathlib import Path

from verif import coverage as fcov
from verif import testplan

from . import campaign, codecov, runner

__all__ = ["Thresholds", "Closure", "run_closure", "evaluate"]


@dataclasses.dataclass(frozen=True)
class Thresholds:
    """Sign-off minimums in percent (defaults: OpenTitan V2, 90 % everywhere)."""

    functional: float = 90.0
    line: float = 90.0
    branch: float = 90.0
    toggle: float = 90.0


@dataclasses.dataclass
class Closure:
    """What a closure campaign produced.

    Attributes
    ----------
    results : list of dict
        One record per run (see :func:`sim.campaign.run_job`), in completion order.
    functional : dict
        Merged functional coverage ``{item: {bin: hits}}``.
    curve : list of (int, float, float)
        ``(runs done, functional %, minutes)`` after each run.
    stop_reason : str
    """

    results: list
    functional: dict
    curve: list
    stop_reason: str


def _claimed_groups(jobs, plan):
    """``{job name: covergroups}`` for the jobs whose testpoints claim covergroups."""
    out = collections.defaultdict(set)
    names = {j.name for j in jobs}
    for tp in plan.get("testpoints", []):
        for test in tp.get("tests", []):
            if test in names and tp.get("covergroups"):
                out[test] |= set(tp["covergroups"])
    return dict(out)


def _reseed_candidates(jobs, holes, plan):
    """The jobs worth another seed: the tests of testpoints whose covergroups have holes (among
    *jobs*, those that export functional coverage); all of *jobs* when the plan names none."""
    names = {j.name for j in jobs}
    groups = {h.partition(":")[0].rpartition(".")[0] for h in holes}
    wanted = {t for tp in plan.get("testpoints", []) if set(tp.get("covergroups") or []) & groups
              for t in tp.get("tests", []) if t in names}
    chosen = [j for j in jobs if j.name in wanted]
    return chosen or list(jobs)


def run_closure(jobs, sim, *, workers, max_runs, max_minutes, scheduler=None, seed=None,
                exclusions=fcov.EXCLUSIONS, plan=None, out=sys.stdout):
    """Run the closure loop (see the module docstring); returns a :class:`Closure`."""
    plan = testplan.load_plan() if plan is None else plan
    excl = fcov.load_exclusions(exclusions)
    rng = random.Random(seed)
    seeds = itertools.count(seed) if seed is not None else None
    start = time.monotonic()
    deadline = start + 60.0 * max_minutes
    builds = campaign.prebuild(jobs, sim, coverage=True)
    # The plan's bins of the covergroups the sampling jobs' testpoints claim start at zero, so
    # a budget spent before any run sampled still names every empty bin; those jobs run first.
    claimed = _claimed_groups(jobs, plan)
    first_round = collections.deque(sorted(jobs, key=lambda j: not j.samples_coverage))
    results, curve = [], []
    sampled = [claimed[j.name] for j in jobs if j.samples_coverage and j.name in claimed]
    merged = testplan.zero_bins(plan, set().union(*sampled)) if sampled else {}
    have_functional = bool(merged)
    sampling = set()  # jobs whose runs export functional coverage
    reseedable = list(jobs)
    cycle = itertools.cycle(reseedable)
    progress = campaign.Progress(out)
    pool = campaign.executor(workers, scheduler)
    inflight = set()
    submitted = 0
    stop_reason = ""

    def holes():
        return fcov.holes(merged, excl)

    def next_job():
        nonlocal cycle, reseedable
        if first_round:
            return first_round.popleft()
        if have_functional and not holes():
            return None
        if not have_functional:
            return None  # nothing to close: one run of each job is the whole campaign
        candidates = _reseed_candidates([j for j in jobs if j.name in sampling]
                                        or [j for j in jobs if j.samples_coverage], holes(), plan)
        candidates = candidates or list(jobs)
        if candidates != reseedable:
            reseedable, cycle = candidates, itertools.cycle(candidates)
        return next(cycle)

    def submit():
        nonlocal submitted, stop_reason
        while len(inflight) < max(1, workers):
            if submitted >= max_runs:
                stop_reason = stop_reason or f"run budget spent ({max_runs} runs)"
                return
            if time.monotonic() >= deadline:
                stop_reason = stop_reason or f"time budget spent ({max_minutes:g} min)"
                return
            job = next_job()
            if job is None:
                return
            s = next(seeds) if seeds is not None else rng.randrange(1, 2**31)
            spec = campaign.JobSpec(job, s, sim, builds[job.name], coverage=True)
            inflight.add(pool.submit(campaign.run_job, spec))
            submitted += 1

    try:
        submit()
        while inflight:
            done, _ = _wait_first(inflight)
            for fut in done:
                inflight.discard(fut)
                rec = fut.result()
                results.append(rec)
                if rec["fcov"]:
                    merged = fcov.merge([merged, fcov.load(rec["fcov"])])
                    have_functional = True
                    sampling.add(rec["name"])
                pct = fcov.total(merged, excl)[2] if have_functional else None
                curve.append((len(results), pct if pct is not None else 0.0,
                              (time.monotonic() - start) / 60))
                progress.update(len(results), len(inflight), sum(not r["passed"] for r in results),
                                pct, deadline,
                                note=f"{'PASS' if rec['passed'] else 'FAIL'} {rec['name']}")
            submit()
    finally:
        progress.close()
        campaign.shutdown(pool)
    if not stop_reason:
        stop_reason = ("every functional bin hit" if have_functional
                       else "every job ran once (no functional coverage exported)")
    return Closure(results, merged, curve, stop_reason)


def _wait_first(futures):
    import concurrent.futures

    return concurrent.futures.wait(futures, return_when=concurrent.futures.FIRST_COMPLETED)


def evaluate(closure, thresholds, *, exclusions=fcov.EXCLUSIONS, root=runner.REPO_ROOT):
    """Merge code coverage per design and compare with *thresholds*.

    Returns ``(code, verdicts)``: ``code`` is ``{verilog name: (points, summary)}`` and
    ``verdicts`` a list of ``(what, measured %, minimum %, ok)``.
    """
    code_excl = codecov.load_exclusions(exclusions)
    by_design = collections.defaultdict(list)
    for rec in closure.results:
        if rec["codecov"]:
            by_design[(rec["build"], rec["codecov_keys"])].append(rec["codecov"])
    code = {}
    for (build, table), files in sorted(by_design.items()):
        counts = codecov.merge_compact(files, table)
        pts = codecov.points(counts, root=root)
        code[build] = (pts, codecov.summarize(pts, code_excl))
    verdicts = []
    f_excl = fcov.load_exclusions(exclusions)
    if closure.functional:
        pct = fcov.total(closure.functional, f_excl)[2]
        verdicts.append(("functional", pct, thresholds.functional,
                         pct >= thresholds.functional))
    for build, (_, summary) in code.items():
        for kind in codecov.KINDS:
            pct = summary[kind]["percent"]
            minimum = getattr(thresholds, kind)
            verdicts.append((f"{kind} ({build.rsplit('-', 1)[0]})", pct, minimum, pct >= minimum))
    return code, verdicts


def coverage_dir(sim):
    """Where the report goes (``build/coverage``)."""
    return Path(runner.BUILD_ROOT) / "coverage"
