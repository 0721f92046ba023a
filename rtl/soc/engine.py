"""The engine configuration used inside the SoC, and its Verilog.

One source of truth for the parameters the SoC instantiates ``mee_engine`` with: the bridge
reads the port widths from the same dictionary the Verilog is generated from.
"""

import hashlib
import json
import os
from pathlib import Path

from ..verilog import elaborate, to_verilog

__all__ = ["ENGINE_SPEC", "engine_params", "engine_verilog"]

ENGINE_SPEC = "rtl.engine.top:MEEngineTop"
_SOC_DIR = Path(__file__).resolve().parent
_RTL_DIR = _SOC_DIR.parent


def engine_params(*, ram_bits, keyid_bits, sbox="table", **overrides):
    """Engine parameters for a DRAM of ``2**ram_bits`` bytes behind a KeyID window.

    The physical address is the window offset: DRAM address bits plus *keyid_bits* KeyID bits
    on top (the C-bit in AMD mode is the top one). The bridge keeps one request in flight, so
    one tag bit each side is enough; everything else is the engine's default unless overridden.
    """
    pa_width = ram_bits + keyid_bits
    params = dict(slots=2 ** keyid_bits, keyid_bits_max=keyid_bits, pa_width=pa_width,
                  c_bit_pos=pa_width - 1, asid_width=6, addr_width=pa_width, tag_width=1,
                  dram_tag_width=1, sbox=sbox)
    params.update(overrides)
    return params


def _engine_source_hash():
    """Hash of the RTL sources outside ``rtl/soc`` (editing the SoC glue keeps the cache)."""
    digest = hashlib.sha256()
    for path in sorted(_RTL_DIR.rglob("*.py")):
        if _SOC_DIR not in path.parents:
            digest.update(str(path.relative_to(_RTL_DIR)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def engine_verilog(params, build_dir):
    """Write ``mee_engine.v`` for *params* under *build_dir* (cached by content) and return it."""
    key = hashlib.sha256(json.dumps([ENGINE_SPEC, sorted(params.items()), _engine_source_hash()])
                         .encode()).hexdigest()[:16]
    out = Path(build_dir) / f"mee_engine-{key}" / "mee_engine.v"
    if not out.exists():
        out.parent.mkdir(parents=True, exist_ok=True)
        tmp = out.with_suffix(f".tmp{os.getpid()}")
        tmp.write_text(to_verilog(elaborate(ENGINE_SPEC, params), "mee_engine"))
        tmp.replace(out)
    return out
