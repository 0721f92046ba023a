"""``python -m sim.bench`` (``make bench``): every performance benchmark, one report.

Runs, in this order, each as its own measurement (cycle counts from the simulator, never
wall-clock time, except for the golden model whose speed *is* wall-clock):

1. the golden model's XTS throughput against raw AES-ECB (``python -m golden_model bench``);
2. the AES pipelines' latency and sustained blocks per cycle (``python -m sim.bench_aes``);
3. the engine's throughput, added read latency and key-change cost (``python -m sim.bench_engine``),
   with lanes = 1 and lanes = 4;
4. the verification environment's checked transactions per second, when it provides a
   benchmark (``python -m sim.bench_verif``).

Each writes its JSON under ``build/results/``; this command also regenerates the benchmark
sections of ``docs/results.md``. A benchmark that fails is reported and makes the exit status 1;
the others still run.
"""

import argparse
import importlib.util
import json
import subprocess
import sys

from .results import RESULTS_DIR, update_section
from .runner import REPO_ROOT

__all__ = ["BENCHMARKS", "main"]

# (name, module run as ``python -m``, takes --sim, JSON it writes, extra arguments). A
# benchmark whose JSON is None writes its own docs/results.md section; for the others this
# command renders one.
BENCHMARKS = [
    ("bench-golden-model", "golden_model", False, "", []),
    ("bench-aes", "sim.bench_aes", True, "aes_bench.json", []),
    ("bench-engine", "sim.bench_engine", True, "engine_bench.json", []),
    ("bench-engine-lanes4", "sim.bench_engine", True, "engine_bench_lanes4.json",
     ["--lanes", "4"]),
    ("bench-verif", "sim.bench_verif", True, None, []),
]


def _table(rows):
    """Markdown table from a list of flat dicts (columns in first-seen order)."""
    cols = []
    for row in rows:
        cols += [k for k in row if k not in cols and not isinstance(row[k], (dict, list))]
    out = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for row in rows:
        out.append("| " + " | ".join(str(row.get(c, "")) for c in cols) + " |")
    return "\n".join(out)


def _render(name, command, stdout, data):
    body = [f"### {name.removeprefix('bench-').replace('-', ' ')}", "",
            f"Measured with `{command}`."]
    if isinstance(data, list) and data and all(isinstance(r, dict) for r in data):
        body += ["", _table(data)]
    elif isinstance(data, dict):
        flat = {k: v for k, v in data.items() if not k.startswith("_")}
        body += ["", "```json", json.dumps(flat, indent=2), "```"]
    else:
        body += ["", "```", stdout.strip(), "```"]
    return "\n".join(body)


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.bench", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sim", default="verilator", choices=("icarus", "verilator"))
    parser.add_argument("--only", help="comma-separated section names to run")
    args = parser.parse_args(argv)
    failed = []
    for name, module, takes_sim, json_name, extra in BENCHMARKS:
        if args.only and name not in args.only.split(","):
            continue
        if importlib.util.find_spec(module) is None:
            print(f"== {name}: skipped ({module} not present)")
            continue
        cmd = [sys.executable, "-m", module] + (["bench"] if module == "golden_model" else [])
        cmd += (["--sim", args.sim] if takes_sim else []) + extra
        shown = "python -m " + " ".join(cmd[2:])
        print(f"== {name}: {shown}", flush=True)
        proc = subprocess.run(cmd, cwd=REPO_ROOT, capture_output=True, text=True)
        print(proc.stdout, end="")
        if proc.returncode != 0:
            print(proc.stderr, end="", file=sys.stderr)
            failed.append(name)
            continue
        if json_name is None:
            continue
        data = None
        if json_name and (RESULTS_DIR / json_name).is_file():
            data = json.loads((RESULTS_DIR / json_name).read_text())
        update_section(name, _render(name, shown, proc.stdout, data))
    if failed:
        print(f"error: benchmarks failed: {', '.join(failed)}", file=sys.stderr)
        return 1
    print("docs/results.md updated")
    return 0


if __name__ == "__main__":
    sys.exit(main())
