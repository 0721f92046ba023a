"""Engine performance in clock cycles: ``python -m sim.bench_engine [--sim verilator]``.

Measures (DESIGN §7), all from the cycle stamps the BFMs put on every transfer:

- sustained AES blocks per cycle, writes only and reads only, a different KeyID on every
  request (4 blocks per 64-byte line);
- read latency added by the engine: DRAM response transfer edge → upstream response transfer
  edge (``up_rsp_ready`` held high), encrypted and plaintext (NO_ENCRYPT slot);
- cycles lost when a key is reprogrammed (an unrelated KeyID) in the middle of each stream;
- a read to another line issued right behind an encrypted write: its request → response cycles
  against the same read alone (reads pass writes to other lines, so they should be equal).

Writes ``build/results/engine_bench.json`` (``engine_bench_lanes<N>.json`` for ``--lanes N``)
and prints a table.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from pathlib import Path

__all__ = ["run_bench", "format_table", "main"]


def run_bench(sim: str = "verilator", lines: int = 256, seed: int | None = None,
              lanes: int = 1) -> dict:
    """Run the benchmark simulation and return its figures."""
    from sim.runner import BUILD_ROOT, run

    params = {"lanes": lanes} if lanes != 1 else None
    with tempfile.TemporaryDirectory(prefix="bench-") as tmp:
        out = Path(tmp) / "bench.json"
        run("rtl.engine.top:MEEngineTop", "sim.cocotb_bench", sim=sim, name="mee_engine",
            params=params, seed=seed,
            extra_env={"BENCH_RESULTS": out, "BENCH_LINES": lines, "BENCH_LANES": lanes})
        results = json.loads(out.read_text())
    results["sim"] = sim
    results["lanes"] = lanes
    suffix = "" if lanes == 1 else f"_lanes{lanes}"
    dest = BUILD_ROOT / "results" / f"engine_bench{suffix}.json"
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_text(json.dumps(results, indent=2) + "\n")
    results["_path"] = str(dest)
    return results


def format_table(r: dict) -> str:
    """A plain-text table of :func:`run_bench` results."""
    lat = r["read_latency_cycles"]
    rows = [
        ("write throughput (blocks/cycle, DRAM side)", f"{r['write_blocks_per_cycle']:.3f}"),
        ("write acceptance (blocks/cycle, upstream)", f"{r['write_accept_blocks_per_cycle']:.3f}"),
        ("read throughput (blocks/cycle, responses)", f"{r['read_blocks_per_cycle']:.3f}"),
    ]
    for name, v in lat.items():
        rows.append((f"read latency {name} (cycles)", f"{v['min']}..{v['max']}"))
    rows.append(("added by decryption (cycles)",
                 f"{lat['encrypted']['max'] - lat['bypass_noencrypt_slot']['max']}"))
    behind = r.get("read_behind_encrypted_write_cycles")
    if behind:
        rows.append(("read alone / behind an encrypted write (up_req->up_rsp)",
                     f"{behind['read_alone']}/{behind['read_behind_write']}"))
    rows.append(("key change, lost cycles (writes)", str(r["key_change_lost_cycles_write"])))
    rows.append(("key change, lost cycles (reads)", str(r["key_change_lost_cycles_read"])))
    for side in ("write", "read"):
        d = r.get(f"key_change_{side}")
        if d:
            rows.append((f"  {side}s: span-ideal without/with, max gap near/away",
                         f"{d['span_excess_without']}/{d['span_excess_with']}, "
                         f"{d['max_gap_near_status']}/{d['max_gap_elsewhere']}"))
    width = max(len(a) for a, _ in rows)
    head = (f"engine benchmark ({r['sim']}, lanes={r.get('lanes', 1)}, "
            f"{r['lines']} lines per stream)")
    return "\n".join([head, "-" * (width + 12)] + [f"{a:<{width}}  {b:>9}" for a, b in rows])


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.bench_engine",
                                     description=__doc__.split("\n")[0])
    parser.add_argument("--sim", choices=("icarus", "verilator"), default="verilator")
    parser.add_argument("--lines", type=int, default=256, help="lines per stream (default 256)")
    parser.add_argument("--seed", type=int, default=None)
    parser.add_argument("--lanes", type=int, choices=(1, 2, 4), default=1,
                        help="AES blocks per cycle per direction (default 1)")
    args = parser.parse_args(argv)
    results = run_bench(args.sim, args.lines, args.seed, args.lanes)
    print(format_table(results))
    print(f"written: {results['_path']}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
