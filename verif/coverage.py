"""Merge and report the functional coverage that pyuvm runs export (``fcov.json``).

Usage::

    python -m verif.coverage merge [-o build/coverage/fcov.json] [PATH ...]
    python -m verif.coverage report FILE.json

Each run writes ``{coverpoint or cross: {bin: hits}}`` (:func:`verif.uvm.coverage.export`);
merging is summing hits per bin. A group's coverage is the fraction of its bins (those of its
coverpoints and crosses) hit at least once, after the reviewed exclusions of
``verif/coverage_exclusions.yaml`` (section ``functional``; each entry gives a reason).
"""

from __future__ import annotations

import argparse
import collections
import dataclasses
import fnmatch
import json
import sys
from pathlib import Path

import yaml

__all__ = ["EXCLUSIONS", "FunctionalExclusion", "find_files", "merge", "write", "load",
           "load_exclusions", "groups", "holes", "main"]

EXCLUSIONS = Path(__file__).with_name("coverage_exclusions.yaml")


@dataclasses.dataclass(frozen=True)
class FunctionalExclusion:
    """Bins excluded from functional coverage: globs over the item and the bin label."""

    item: str
    bin: str
    reason: str

    def matches(self, item, label):
        return fnmatch.fnmatchcase(item, self.item) and fnmatch.fnmatchcase(label, self.bin)


def find_files(paths):
    """Every ``fcov.json`` under *paths* (files are taken as given), sorted."""
    out = []
    for p in map(Path, paths):
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out.extend(sorted(p.rglob("fcov.json")))
    return out


def load(path):
    """One coverage file as ``{item: {bin: hits}}``."""
    return json.loads(Path(path).read_text())


def merge(items):
    """Sum ``{item: {bin: hits}}`` dicts (or files) bin by bin."""
    total = collections.defaultdict(collections.Counter)
    for data in items:
        if not isinstance(data, dict):
            data = load(data)
        for item, bins in data.items():
            total[item].update({b: int(h) for b, h in bins.items()})
            for b in bins:  # keep bins with no hit
                total[item].setdefault(b, 0)
    return {item: dict(bins) for item, bins in sorted(total.items())}


def write(data, path):
    """Write merged coverage as JSON; returns the path."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(data, indent=0, sort_keys=True))
    return path


def load_exclusions(path=EXCLUSIONS):
    """The ``functional`` exclusions; ``ValueError`` (one line) for an entry without reason."""
    if path is None:
        return []
    if not Path(path).is_file():
        raise ValueError(f"{path}: no such exclusion file")
    entries = (yaml.safe_load(Path(path).read_text()) or {}).get("functional") or []
    out = []
    for i, e in enumerate(entries, 1):
        if not isinstance(e, dict) or not str(e.get("reason", "")).strip() or "item" not in e:
            raise ValueError(f"{path}: functional exclusion {i} needs `item` and a `reason`")
        out.append(FunctionalExclusion(e["item"], str(e.get("bin", "*")), e["reason"].strip()))
    return out


def _excluded(exclusions, item, label):
    return next((e for e in exclusions if e.matches(item, label)), None)


def groups(data, exclusions=()):
    """Per covergroup: ``{"hit", "total", "percent", "empty": [...], "excluded": [...]}``.

    ``empty`` lists ``"item: bin"`` of every bin never hit; ``excluded`` lists
    ``("item: bin", reason)``.
    """
    out = {}
    for item, bins in data.items():
        group = item.rpartition(".")[0]
        g = out.setdefault(group, {"hit": 0, "total": 0, "empty": [], "excluded": []})
        for label, hits in bins.items():
            ex = _excluded(exclusions, item, label)
            if ex is not None:
                g["excluded"].append((f"{item}: {label}", ex.reason))
                continue
            g["total"] += 1
            if hits:
                g["hit"] += 1
            else:
                g["empty"].append(f"{item}: {label}")
    for g in out.values():
        g["percent"] = 100.0 * g["hit"] / g["total"] if g["total"] else 100.0
    return dict(sorted(out.items()))


def holes(data, exclusions=()):
    """Every empty, not excluded bin as ``"item: bin"``."""
    return [h for g in groups(data, exclusions).values() for h in g["empty"]]


def total(data, exclusions=()):
    """``(hit, total, percent)`` over every bin."""
    gs = groups(data, exclusions).values()
    hit, size = sum(g["hit"] for g in gs), sum(g["total"] for g in gs)
    return hit, size, 100.0 * hit / size if size else 100.0


def _print(data, exclusions, out=sys.stdout):
    for name, g in groups(data, exclusions).items():
        print(f"  {name:20s} {g['hit']:4d}/{g['total']:<4d} {g['percent']:6.1f}%", file=out)
        for hole in g["empty"]:
            print(f"      empty: {hole}", file=out)
    hit, size, pct = total(data, exclusions)
    print(f"  {'total':20s} {hit:4d}/{size:<4d} {pct:6.1f}%", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m verif.coverage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge", help="merge fcov.json files")
    m.add_argument("paths", nargs="*", default=["build/runs"])
    m.add_argument("-o", "--output", default="build/coverage/fcov.json")
    r = sub.add_parser("report", help="per-covergroup report of one file")
    r.add_argument("file")
    for p in (m, r):
        p.add_argument("--exclusions", default=str(EXCLUSIONS))
    args = parser.parse_args(argv)
    try:
        exclusions = load_exclusions(args.exclusions)
        if args.cmd == "merge":
            files = find_files(args.paths)
            if not files:
                print("error: no fcov.json found", file=sys.stderr)
                return 1
            data = merge(files)
            print(f"merged {len(files)} file(s) into {write(data, args.output)}")
        else:
            data = load(args.file)
    except (ValueError, OSError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    _print(data, exclusions)
    return 0


if __name__ == "__main__":
    sys.exit(main())
