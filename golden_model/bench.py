"""Throughput of the XTS line paths next to raw AES-ECB measured in the same process.

Raw ECB is one ``cryptography`` call over the same number of bytes as the batch; every figure
is the best of several repetitions (the least disturbed by other processes).
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

from .engine import Engine, Request
from .xts import line_cipher

__all__ = ["BenchResult", "run_bench", "format_bench"]


@dataclass(frozen=True)
class BenchResult:
    """Lines per second of each path."""

    lines: int
    single: float
    batch: float
    raw_ecb: float
    engine: float

    @property
    def batch_ratio(self) -> float:
        return self.batch / self.raw_ecb


def _best(fn, repeats: int) -> float:
    best = float("inf")
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return best


def run_bench(lines: int = 65536, single_lines: int = 20000, repeats: int = 5) -> BenchResult:
    """Measure single-line, batch, raw ECB and engine-request throughput (lines per second)."""
    key1, key2 = os.urandom(16), os.urandom(16)
    data = os.urandom(64 * lines)
    tweaks = range(0, 64 * lines, 64)
    lc = line_cipher(key1, key2)
    ecb = Cipher(algorithms.AES(key1), modes.ECB()).encryptor()
    line = data[:64]
    t_single = _best(lambda: [lc.encrypt(i, line) for i in range(0, 64 * single_lines, 64)], repeats)
    t_batch = _best(lambda: lc.encrypt_batch(tweaks, data), repeats)
    t_raw = _best(lambda: ecb.update(data), repeats)
    eng = Engine()
    reqs = [Request(64 * i, True, 0, line) for i in range(single_lines)]
    t_eng = _best(lambda: [eng.request(r) for r in reqs], repeats)
    return BenchResult(lines, single_lines / t_single, lines / t_batch, lines / t_raw, single_lines / t_eng)


def format_bench(r: BenchResult) -> str:
    return "\n".join([
        f"single-line XTS : {r.single:12,.0f} lines/s",
        f"batch XTS       : {r.batch:12,.0f} lines/s  ({r.lines} lines per call)",
        f"raw AES-ECB     : {r.raw_ecb:12,.0f} lines/s  (same bytes, one call)",
        f"batch / raw     : {r.batch_ratio:12.2f}",
        f"engine requests : {r.engine:12,.0f} lines/s  ({1e6 / r.engine:.1f} us per request, TME off)",
    ])
