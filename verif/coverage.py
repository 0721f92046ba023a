"""Merge and report the functional coverage the pyuvm tests export per run.

Usage::

    python -m verif.coverage merge [-o build/coverage/merged.xml] [PATH ...]
    python -m verif.coverage report FILE.xml

``merge`` collects every ``coverage.xml`` under the given paths (files or directories; default
``build/runs``), merges them with :func:`cocotb_coverage.coverage.merge_coverage` and prints
the per-covergroup report of the result. ``report`` prints that report for one file.
"""

from __future__ import annotations

import argparse
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

__all__ = ["find_files", "merge", "report", "main"]


def find_files(paths):
    """Every ``coverage.xml`` under *paths* (files are taken as given), sorted."""
    out = []
    for p in map(Path, paths):
        if p.is_file():
            out.append(p)
        elif p.is_dir():
            out.extend(sorted(p.rglob("coverage.xml")))
    return out


def merge(files, out):
    """Merge cocotb-coverage XML *files* into *out*; returns *out* as a Path."""
    from cocotb_coverage.coverage import merge_coverage

    out = Path(out)
    out.parent.mkdir(parents=True, exist_ok=True)
    files = [str(f) for f in files]
    if len(files) == 1:
        out.write_bytes(Path(files[0]).read_bytes())
    else:
        merge_coverage(lambda *a: None, str(out), *files)
    return out


def report(path):
    """``[(name, covered, size, percent)]`` of the covergroups (two-level names) in *path*."""
    root = ET.parse(path).getroot()
    rows = []

    def walk(node, prefix):
        for child in node:
            name = f"{prefix}.{child.tag}" if prefix else child.tag
            if name.count(".") == 1:
                rows.append((name, int(child.get("coverage", 0)), int(child.get("size", 0)),
                             float(child.get("cover_percentage", 0))))
            walk(child, name)

    walk(root, "")
    return rows


def _print(rows, out=sys.stdout):
    total_cov = sum(r[1] for r in rows)
    total_size = sum(r[2] for r in rows)
    for name, cov, size, pct in rows:
        print(f"  {name:16s} {cov:4d}/{size:<4d} {pct:6.1f}%", file=out)
    if total_size:
        print(f"  {'total':16s} {total_cov:4d}/{total_size:<4d} "
              f"{100.0 * total_cov / total_size:6.1f}%", file=out)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m verif.coverage", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="cmd", required=True)
    m = sub.add_parser("merge", help="merge coverage.xml files")
    m.add_argument("paths", nargs="*", default=["build/runs"])
    m.add_argument("-o", "--output", default="build/coverage/merged.xml")
    r = sub.add_parser("report", help="per-covergroup report of one file")
    r.add_argument("file")
    args = parser.parse_args(argv)
    if args.cmd == "merge":
        files = find_files(args.paths)
        if not files:
            print("no coverage.xml found", file=sys.stderr)
            return 1
        out = merge(files, args.output)
        print(f"merged {len(files)} file(s) into {out}")
        _print(report(out))
    else:
        _print(report(args.file))
    return 0


if __name__ == "__main__":
    sys.exit(main())
