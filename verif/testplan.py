"""Join regression results back onto the testplan (``verif/testplan.yaml``).

Usage::

    python -m verif.testplan JUNIT.xml [JUNIT.xml ...] [--plan verif/testplan.yaml]
        [--coverage fcov.json]

Reads the JUnit files ``python -m sim.regress`` writes (test case names ``<job>.seed<N>``),
and prints, per testpoint, how many of its tests' runs passed, with a status: PASS (every
listed test ran and passed), FAIL (a run failed), PARTIAL (some listed tests never ran) or
NOT RUN. With ``--coverage`` (merged functional coverage, see :mod:`verif.coverage`) each
testpoint also shows its covergroups' coverage. Exit status 1 if a testpoint failed.
"""

from __future__ import annotations

import argparse
import re
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

import yaml

__all__ = ["load_plan", "coverpoints", "zero_bins", "load_results", "join", "main", "PLAN"]

PLAN = Path(__file__).with_name("testplan.yaml")


def load_plan(path=PLAN):
    """The plan as a dict (``testpoints``, ``covergroups``)."""
    return yaml.safe_load(Path(path).read_text())


def coverpoints(plan=None):
    """``{"group.point": spec}`` of every coverpoint and cross the plan declares.

    A coverpoint's spec has ``bins``; a cross's has ``items`` (names within its group) and
    optionally ``ignore`` (bin tuples). Raises ``ValueError`` on a malformed entry.
    """
    plan = load_plan() if plan is None else plan
    out = {}
    for group in plan.get("covergroups", []):
        for point in group.get("coverpoints", []):
            name = f"{group['name']}.{point['name']}"
            if ("bins" in point) == ("items" in point):
                raise ValueError(f"testplan: {name} needs either bins or items")
            out[name] = point
    return out


def zero_bins(plan=None, groups=None):
    """Every bin the plan declares (of *groups*, default all) with no hit, in the form runs
    export (``{item: {label: 0}}``; a cross's label joins its items' bins with ``" x "``)."""
    import itertools

    plan = load_plan() if plan is None else plan
    points = coverpoints(plan)
    out = {}
    for name, spec in points.items():
        group = name.rpartition(".")[0]
        if groups is not None and group not in groups:
            continue
        if "bins" in spec:
            out[name] = {str(b): 0 for b in spec["bins"]}
            continue
        ignore = {tuple(map(str, i)) for i in spec.get("ignore", [])}
        axes = [[str(b) for b in points[f"{group}.{item}"]["bins"]] for item in spec["items"]]
        out[name] = {" x ".join(combo): 0 for combo in itertools.product(*axes)
                     if combo not in ignore}
    return out


def load_results(paths):
    """``{job name: [passed, ...]}`` from JUnit files (one entry per run/seed/simulator)."""
    out = {}
    for path in paths:
        for case in ET.parse(path).getroot().iter("testcase"):
            name = re.sub(r"\.seed\d+$", "", case.get("name", ""))
            failed = case.find("failure") is not None or case.find("error") is not None
            out.setdefault(name, []).append(not failed)
    return out


def join(plan, results, coverage=None):
    """Rows ``(testpoint, status, passed, runs, missing tests, coverage text)``."""
    rows = []
    for tp in plan["testpoints"]:
        runs = [ok for t in tp.get("tests", []) for ok in results.get(t, [])]
        missing = [t for t in tp.get("tests", []) if t not in results]
        if not runs:
            status = "NOT RUN"
        elif not all(runs):
            status = "FAIL"
        else:
            status = "PARTIAL" if missing else "PASS"
        cov = ""
        if coverage:
            cov = ", ".join(f"{g} {coverage[g]:.0f}%" for g in tp.get("covergroups", [])
                            if g in coverage)
        rows.append((tp["name"], status, sum(runs), len(runs), missing, cov))
    return rows


def _coverage(path):
    from .coverage import groups, load, load_exclusions
    return {name: g["percent"] for name, g in groups(load(path), load_exclusions()).items()}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m verif.testplan", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("junit", nargs="+", type=Path)
    parser.add_argument("--plan", type=Path, default=PLAN)
    parser.add_argument("--coverage", type=Path)
    args = parser.parse_args(argv)
    plan = load_plan(args.plan)
    rows = join(plan, load_results(args.junit), _coverage(args.coverage) if args.coverage
                else None)
    width = max(len(r[0]) for r in rows)
    print(f"testplan {plan.get('name', '')}: {len(rows)} testpoints")
    for name, status, ok, n, missing, cov in rows:
        extra = f"  not run: {', '.join(missing)}" if missing and n else ""
        print(f"  {name:{width}s}  {status:8s} {ok}/{n} runs passed"
              f"{'  [' + cov + ']' if cov else ''}{extra}")
    counts = {s: sum(r[1] == s for r in rows) for s in ("PASS", "PARTIAL", "FAIL", "NOT RUN")}
    print("  " + ", ".join(f"{k} {v}" for k, v in counts.items()))
    return 1 if counts["FAIL"] else 0


if __name__ == "__main__":
    sys.exit(main())
