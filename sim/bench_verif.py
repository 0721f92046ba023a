"""Verification throughput: ``python -m sim.bench_verif [--sim verilator|icarus]``.

In one run on one simulator it measures:

- **the environment**: the pyuvm random multi-key test (every upstream response and DRAM line
  checked against the golden model by the scoreboard) on the burst harness
  (:class:`~verif.harness.burst.BurstHarness`): checked lines (upstream responses + DRAM
  writes) per second and simulated cycles per second, over the test's steady state (the
  sequence, the settling after it and the scoreboard's final checks and trace; build, set-up,
  imports and reports excluded). The default length (256 bursts of 60 requests on Verilator,
  about 15,000 requests) gives several seconds of environment wall time;
- **the anchor**: a bare per-cycle cocotb loop (``await RisingEdge(clk)`` and nothing else,
  :mod:`sim.cocotb_clock_loop`) on the same build: its cycles per second;
- their **ratio** (environment cycles/s / anchor cycles/s; the target is >= 1.0);
- **the simulator alone**: the same build run for as many cycles in one ``Timer`` (no Python
  between two wake-ups), the ceiling of any testbench on this design;
- unless ``--quick`` (and on Icarus only with ``--changes``), **which change bought what**:
  the same test with the per-cycle BFMs on the bare engine (the transport before issue 13),
  on the harness with the later changes turned off one by one (``UVM_STALL_FLAGS``,
  ``UVM_COV_BATCH``, ``UVM_ITEM_BATCH``, see :mod:`verif.uvm.cocotb_uvm`), and with the
  wake-up window forced to 1 and 8 cycles.

Results go to ``build/results/verif_bench.json`` (one entry per simulator, merged with
earlier runs) and to the ``verif_bench`` section of ``docs/results.md``. ``--profile`` also
writes cProfile's breakdown of the environment run to
``build/results/verif_profile_<sim>.txt`` (the profiled run's figures are not comparable).
"""

from __future__ import annotations

import argparse
import json
import sys
import xml.etree.ElementTree as ET

__all__ = ["run_env", "run_anchor", "run_bench", "format_table", "profile_breakdown", "main"]

TEST = "RandomMultiKeyTest"
HARNESS = ("verif.harness.burst:BurstHarness", "mee_burst")
ENGINE = ("rtl.engine.top:MEEngineTop", "mee_engine")
PERIOD_NS = 10


def _case(result, default_sim_ns=0.0):
    """(wall seconds, simulated ns) of the run's first test case, from cocotb's XML."""
    case = next(ET.parse(result.results_xml).getroot().iter("testcase"))
    return float(case.get("time")), float(case.get("sim_time_ns") or default_sim_ns)


#: Default random-test bursts (of 60 requests) per simulator: several seconds of env wall.
BURSTS = {"verilator": 256, "icarus": 2}

#: Which change bought what: label -> (design, window, knobs), in the order they were made.
#: Each row turns off the changes after it (the knobs of :mod:`verif.uvm.cocotb_uvm`).
CHANGES = {
    "per-cycle BFMs, bare engine (before issue 13)": (ENGINE, None, {
        "UVM_COV_BATCH": 0, "UVM_ITEM_BATCH": 0}),
    "burst harness, window 32, Python stall watcher every cycle, coverage sampled per call, "
    "one request per sequencer handshake": (HARNESS, None, {
        "UVM_STALL_FLAGS": 0, "UVM_COV_BATCH": 0, "UVM_ITEM_BATCH": 0}),
    "+ stall flags in the harness (no per-cycle Python)": (HARNESS, None, {
        "UVM_COV_BATCH": 0, "UVM_ITEM_BATCH": 0}),
    "+ coverage samples batched": (HARNESS, None, {"UVM_ITEM_BATCH": 0}),
    "+ request batches per sequencer handshake, window 1": (HARNESS, 1, {}),
    "+ request batches per sequencer handshake, window 8": (HARNESS, 8, {}),
}
DEFAULT_LABEL = "+ request batches per sequencer handshake, window 32 (default)"


def run_env(sim, *, design=HARNESS, window=None, bursts=8, burst_len=60, seed=1,
            profile=False, knobs=None) -> dict:
    """Run the environment's random test; return its figures."""
    from sim.runner import run

    env = {"UVM_BURSTS": bursts, "UVM_BURST_LEN": burst_len, **(knobs or {})}
    if window:
        env["UVM_WINDOW"] = window
    if profile:
        env["COCOTB_ENABLE_PROFILING"] = 1
    result = run(design[0], "verif.uvm.cocotb_uvm", sim=sim, name=design[1], testcase=TEST,
                 seed=seed, extra_env=env)
    stats = json.loads((result.test_dir / "stats.json").read_text())
    test_wall, _ = _case(result, stats["sim_time_ns"])
    # Steady state: the sequence and its settling (set-up, imports and reports excluded).
    wall, cycles = stats["run_wall_s"], stats["run_sim_ns"] / PERIOD_NS
    return {"design": design[1], "window": window, "knobs": dict(knobs or {}),
            "checked_lines": stats["lines"],
            "checked_total": stats["checked"], "wall_s": round(wall, 3),
            "test_wall_s": round(test_wall, 3), "sim_cycles": int(cycles),
            "lines_per_s": round(stats["lines"] / wall, 1),
            "cycles_per_s": round(cycles / wall, 1), "test_dir": str(result.test_dir)}


def run_anchor(sim, *, design=HARNESS, cycles=None, mode="loop") -> dict:
    """Run the bare per-cycle clock loop on *design* (``mode="floor"``: the same cycles in one
    ``Timer``, the simulator alone); return its cycles/s."""
    from sim.runner import run

    cycles = cycles or (100_000 if sim == "verilator" else 5_000)
    result = run(design[0], "sim.cocotb_clock_loop", sim=sim, name=design[1],
                 extra_env={"BENCH_CYCLES": cycles, "BENCH_MODE": mode})
    wall = json.loads((result.test_dir / "stats.json").read_text())["run_wall_s"]
    return {"cycles": cycles, "wall_s": round(wall, 3), "cycles_per_s": round(cycles / wall, 1)}


# Where Python time goes, by the file a function lives in (first match wins).
_BUCKETS = (("golden model", "golden_model/"), ("scoreboard (verif/uvm/env.py)", "verif/uvm/env.py"),
            ("functional coverage", ("cocotb_coverage", "verif/uvm/coverage.py", "verif/coverage")),
            ("transport: per-cycle BFMs", ("verif/bfm/stream.py", "verif/bfm/dram.py",
                                           "verif/bfm/entropy.py")),
            ("transport: burst", ("verif/bfm/burst.py",)),
            ("TB helpers (verif/engine_tb.py)", "verif/engine_tb.py"),
            ("sequences", ("verif/uvm/sequences.py", "verif/uvm/platform.py")),
            ("pyuvm", "pyuvm/"),
            ("cocotb scheduler, triggers, signal access", ("cocotb/", "cocotb_tools/")),
            ("imports and compiles", ("<frozen", "_pytest/", "importlib", "builtins.compile")),
            ("other (json, hashlib, stdlib)", ""))


def profile_breakdown(pstat_path) -> dict:
    """Python time (s) per bucket of :data:`_BUCKETS` from a cProfile dump."""
    import pstats

    stats = pstats.Stats(str(pstat_path))
    total, out = 0.0, {name: 0.0 for name, _ in _BUCKETS}

    def bucket(filename, func):
        where = f"{filename}:{func}"
        for name, keys in _BUCKETS:
            keys = (keys,) if isinstance(keys, str) else keys
            if any(k in where for k in keys):
                return name
        return _BUCKETS[-1][0]

    for (filename, _, func), (_, _, tottime, _, callers) in stats.stats.items():
        total += tottime
        if filename == "~" and callers and "compile" not in func:
            # A C built-in (AES in OpenSSL, isinstance, ...): charge its callers' share.
            for (cfile, _, cfunc), edge in callers.items():
                out[bucket(cfile, cfunc)] += edge[2]
        else:
            out[bucket(filename, func)] += tottime
    out["total Python"] = total
    return {k: round(v, 3) for k, v in out.items()}


def _profile_text(test_dir, limit=25, env=None, floor=None) -> str:
    import io
    import pstats
    from pathlib import Path

    path = Path(test_dir) / "cocotb.pstat"
    out = io.StringIO()
    if env and floor:
        # The simulator's share, from the simulator-alone rate on the same build.
        sim_s = env["sim_cycles"] / floor["cycles_per_s"]
        out.write(f"profiled env: {env['checked_lines']} checked lines, {env['sim_cycles']} "
                  f"cycles, {env['wall_s']} s steady-state wall; the simulator alone would "
                  f"take {sim_s:.3f} s for these cycles\n")
    for name, seconds in profile_breakdown(path).items():
        out.write(f"{name:48} {seconds:8.3f} s\n")
    stats = pstats.Stats(str(path), stream=out)
    stats.sort_stats("tottime").print_stats(limit)
    return out.getvalue()


def run_bench(sim="verilator", *, bursts=None, burst_len=60, seed=1, quick=False,
              profile=False, changes=None) -> dict:
    """Anchor, simulator floor, environment and (unless *quick*) the per-change table."""
    from sim.runner import BUILD_ROOT

    bursts = bursts or BURSTS[sim]
    changes = (not quick) if changes is None else changes
    kw = {"bursts": bursts, "burst_len": burst_len, "seed": seed}
    env = run_env(sim, **kw)
    anchor = run_anchor(sim)
    floor = run_anchor(sim, mode="floor")
    figures = {"sim": sim, "test": TEST, "seed": seed, "bursts": bursts, "burst_len": burst_len,
               "env": env, "anchor": anchor, "floor": floor,
               "ratio": round(env["cycles_per_s"] / anchor["cycles_per_s"], 2)}
    if changes:
        figures["changes"] = {label: run_env(sim, design=design, window=window, knobs=knobs,
                                             **kw)
                              for label, (design, window, knobs) in CHANGES.items()}
    dest = BUILD_ROOT / "results" / "verif_bench.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    if profile:
        prof_env = run_env(sim, profile=True, **kw)
        prof = dest.parent / f"verif_profile_{sim}.txt"
        prof.write_text(_profile_text(prof_env["test_dir"], env=prof_env, floor=floor))
        figures["profile"] = str(prof)
    data = json.loads(dest.read_text()) if dest.exists() else {}
    data = {k: v for k, v in data.items() if "floor" in v}  # drop entries of older formats
    if not changes and "changes" in data.get(sim, {}):
        figures["changes"] = data[sim]["changes"]  # keep the last full run's table
        figures["changes_from_earlier_run"] = True
    data[sim] = figures
    dest.write_text(json.dumps(data, indent=2) + "\n")
    _update_results_md(data)
    figures["_path"] = str(dest)
    return figures


def format_table(data: dict) -> str:
    """Markdown tables: environment vs anchor per simulator, then the per-change table."""
    rows = ["| simulator | bursts | checked lines | env wall (s) | env checked lines/s | "
            "env cycles/s | anchor cycles/s (bare per-cycle loop) | ratio env/anchor | "
            "simulator alone cycles/s |",
            "|---|---|---|---|---|---|---|---|---|"]
    for sim, f in sorted(data.items()):
        e, a = f["env"], f["anchor"]
        rows.append(f"| {sim} | {f['bursts']} x {f['burst_len']} | {e['checked_lines']} | "
                    f"{e['wall_s']} | {e['lines_per_s']} | {e['cycles_per_s']} | "
                    f"{a['cycles_per_s']} | {f['ratio']} | {f['floor']['cycles_per_s']} |")
    changes = ["", "Which change bought what (same test, seed and length; each row adds one "
               "change to the row above; window = cycles per Python wake-up; the ratio is to "
               "the anchor of the same run):", "",
               "| simulator | transport | checked lines/s | cycles/s | ratio to anchor |",
               "|---|---|---|---|---|"]
    for sim, f in sorted(data.items()):
        a = f["anchor"]["cycles_per_s"]
        runs = dict(f.get("changes", {}))
        runs[DEFAULT_LABEL] = f["env"]
        note = " (from an earlier run)" if f.get("changes_from_earlier_run") else ""
        for name, e in runs.items():
            if name == DEFAULT_LABEL:
                note = ""
            changes.append(f"| {sim} | {name}{note} | {e['lines_per_s']} | "
                           f"{e['cycles_per_s']} | {e['cycles_per_s'] / a:.2f} |")
    return "\n".join(rows + changes)


def _update_results_md(data: dict) -> None:
    from sim.results import update_section

    text = ("## Verification throughput (pyuvm env, `python -m sim.bench_verif`)\n\n"
            f"`{TEST}`: random multi-key traffic, every upstream response and DRAM line "
            "checked against the golden model (checked lines = responses + DRAM writes; "
            "steady-state wall time: the sequence, its settling and the scoreboard's final "
            "checks and trace, without build, set-up, imports and reports). The anchor is a "
            "bare `await RisingEdge(clk)` loop on the same build; *simulator alone* runs the "
            "same build for as many cycles in one `Timer` (no Python between two wake-ups). "
            "Figures of one run only are comparable (shared machine). See "
            "docs/verification.md (throughput).\n\n" + format_table(data))
    update_section("verif_bench", text)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.bench_verif",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--sim", choices=("icarus", "verilator"), default="verilator")
    parser.add_argument("--bursts", type=int, default=None,
                        help="random-test bursts (default 256 on Verilator, 2 on Icarus)")
    parser.add_argument("--burst-len", type=int, default=60)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--quick", action="store_true",
                        help="skip the per-change table (keeps the last one)")
    parser.add_argument("--changes", action=argparse.BooleanOptionalAction, default=None,
                        help="run the per-change table (default: on Verilator unless --quick; "
                             "off on Icarus, where each run takes minutes)")
    parser.add_argument("--profile", action="store_true",
                        help="cProfile the environment run (slower; figures not comparable)")
    args = parser.parse_args(argv)
    bursts = args.bursts or BURSTS[args.sim]
    if bursts < 1 or args.burst_len < 1:
        parser.error("--bursts and --burst-len must be at least 1")
    changes = args.changes
    if changes is None:
        changes = args.sim == "verilator" and not args.quick
    f = run_bench(args.sim, bursts=bursts, burst_len=args.burst_len, seed=args.seed,
                  quick=args.quick, profile=args.profile, changes=changes)
    print(format_table({args.sim: f}))
    print(f"written: {f['_path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
