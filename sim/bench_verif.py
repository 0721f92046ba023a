"""Verification throughput: ``python -m sim.bench_verif [--sim verilator|icarus]``.

Runs the pyuvm random multi-key test (every response and DRAM line checked against the golden
model by the scoreboard) and reports checked line transactions (upstream responses + DRAM
writes) per second of wall time of the test itself (the simulator's ``real_time`` in the
cocotb results, build excluded), plus simulated cycles per second. Results go to
``build/results/verif_bench.json`` (one entry per simulator, merged with earlier runs) and to
the ``verif_bench`` section of ``docs/results.md``.
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET

__all__ = ["run_bench", "format_table", "main"]

TEST = "RandomMultiKeyTest"


def run_bench(sim: str = "verilator", bursts: int = 8, burst_len: int = 60, seed: int = 1) -> dict:
    """Run the benchmark on *sim* and return its figures (also written to the results file)."""
    from sim.runner import BUILD_ROOT, run

    result = run("rtl.engine.top:MEEngineTop", "verif.uvm.cocotb_uvm", sim=sim,
                 name="mee_engine", testcase=TEST, seed=seed,
                 extra_env={"UVM_BURSTS": bursts, "UVM_BURST_LEN": burst_len})
    stats = json.loads((result.test_dir / "stats.json").read_text())
    case = next(ET.parse(result.results_xml).getroot().iter("testcase"))
    wall = float(case.get("time"))
    sim_ns = float(case.get("sim_time_ns") or stats["sim_time_ns"])
    figures = {"sim": sim, "test": TEST, "seed": seed, "bursts": bursts, "burst_len": burst_len,
               "checked_lines": stats["lines"], "checked_total": stats["checked"],
               "wall_s": round(wall, 3), "sim_cycles": int(sim_ns // 10),
               "lines_per_s": round(stats["lines"] / wall, 1),
               "cycles_per_s": round(sim_ns / 10 / wall, 1)}
    dest = BUILD_ROOT / "results" / "verif_bench.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    data = json.loads(dest.read_text()) if dest.exists() else {}
    data[sim] = figures
    dest.write_text(json.dumps(data, indent=2) + "\n")
    _update_results_md(data)
    figures["_path"] = str(dest)
    return figures


def format_table(data: dict) -> str:
    """Markdown table of every simulator's figures."""
    rows = ["| simulator | checked lines | wall (s) | checked lines/s | cycles/s |",
            "|---|---|---|---|---|"]
    for sim, f in sorted(data.items()):
        rows.append(f"| {sim} | {f['checked_lines']} | {f['wall_s']} | {f['lines_per_s']} | "
                    f"{f['cycles_per_s']} |")
    return "\n".join(rows)


def _update_results_md(data: dict) -> None:
    from sim.results import update_section

    text = ("## Verification throughput (pyuvm env, `python -m sim.bench_verif`)\n\n"
            f"`{TEST}`: random multi-key traffic, every upstream response and DRAM line "
            "checked against the golden model (checked lines = responses + DRAM writes; "
            "wall time of the test, build excluded).\n\n" + format_table(data))
    update_section("verif_bench", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.bench_verif",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--sim", choices=("icarus", "verilator"), default="verilator")
    parser.add_argument("--bursts", type=int, default=8)
    parser.add_argument("--burst-len", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    f = run_bench(args.sim, args.bursts, args.burst_len, args.seed)
    print(f"{f['sim']}: {f['checked_lines']} checked lines in {f['wall_s']} s = "
          f"{f['lines_per_s']} lines/s ({f['cycles_per_s']} cycles/s)")
    print(f"written: {f['_path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
