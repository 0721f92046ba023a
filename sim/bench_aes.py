"""Benchmark of the AES pipelines in simulation: latency in cycles and sustained blocks/cycle.

Usage::

    python -m sim.bench_aes [--sim icarus|verilator] [--regs-per-round 1 2] [--sbox ...]
                            [--blocks 1000] [--out build/results/aes_bench.json]

Builds each pipeline (through :func:`sim.runner.run`, so builds are shared with the tests),
runs ``verif/aes/cocotb_aes_bench.py`` on it and writes one JSON record per configuration, plus
a table on stdout. This is a measurement, not a test: it checks results only as a sanity check.
"""

import argparse
import json
import sys
import time

from rtl.aes.pipeline import pipeline_latency
from rtl.aes.sbox import DEFAULT_SBOX
from sim.runner import BUILD_ROOT, run, simulation_params

__all__ = ["main"]

_DESIGNS = {
    "encrypt": ("rtl.aes.pipeline:AESEncryptPipeline", "aes_encrypt_pipeline"),
    "decrypt": ("rtl.aes.pipeline:AESDecryptPipeline", "aes_decrypt_pipeline"),
}


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m sim.bench_aes", description=__doc__.split("\n")[0])
    parser.add_argument("--sim", choices=["icarus", "verilator"], default="icarus")
    parser.add_argument("--regs-per-round", type=int, nargs="+", choices=[1, 2], default=[1, 2])
    parser.add_argument("--sbox", choices=["composite", "table"], default=None,
                        help="S-box style (default: the simulator's, see "
                        "sim.runner.SIMULATOR_DEFAULTS; cycle counts do not depend on it)")
    parser.add_argument("--blocks", type=int, default=1000)
    parser.add_argument("--tag-width", type=int, default=8)
    parser.add_argument("--out", default=str(BUILD_ROOT / "results" / "aes_bench.json"))
    args = parser.parse_args(argv)
    spec0 = next(iter(_DESIGNS.values()))[0]
    sbox = args.sbox or simulation_params(args.sim, spec0).get("sbox", DEFAULT_SBOX)

    records = []
    for direction, (spec, name) in _DESIGNS.items():
        for rpr in args.regs_per_round:
            params = {"tag_width": args.tag_width, "regs_per_round": rpr, "sbox": sbox}
            out_json = BUILD_ROOT / "results" / f".aes_bench_{direction}_{rpr}_{time.time_ns()}.json"
            out_json.parent.mkdir(parents=True, exist_ok=True)
            start = time.monotonic()
            result = run(spec, "verif.aes.cocotb_aes_bench", sim=args.sim, params=params, name=name,
                         extra_env={"AES_DIRECTION": direction, "AES_TAG_WIDTH": args.tag_width,
                                    "AES_BENCH_BLOCKS": args.blocks, "AES_BENCH_OUT": out_json})
            measured = json.loads(out_json.read_text())
            out_json.unlink()
            records.append({
                "pipeline": direction, "regs_per_round": rpr, "sbox": sbox, "sim": args.sim,
                "declared_latency": pipeline_latency(rpr), **measured,
                "sim_wall_s": round(result.wall_s, 2),
                "total_wall_s": round(time.monotonic() - start, 2),
            })

    with open(args.out, "w") as f:
        json.dump(records, f, indent=2)
    print(f"{'pipeline':9} {'regs/rnd':>8} {'sbox':>9} {'latency':>7} {'declared':>8} "
          f"{'blocks/cycle':>12} {'window':>7}")
    for r in records:
        print(f"{r['pipeline']:9} {r['regs_per_round']:>8} {r['sbox']:>9} {r['latency_cycles']:>7} "
              f"{r['declared_latency']:>8} {r['blocks_per_cycle']:>12.4f} {r['window_cycles']:>7}")
    print(f"written: {args.out}")
    bad = [r for r in records if r["latency_cycles"] != r["declared_latency"]]
    return 1 if bad else 0


if __name__ == "__main__":
    sys.exit(main())
