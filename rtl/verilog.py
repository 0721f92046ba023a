"""Verilog generation for every top-level design, and the ``python -m rtl.verilog`` CLI.

There is exactly one way this project turns an Amaranth component into Verilog, used by
``make verilog``, by the simulation runner and by the FPGA flows, so that what is simulated is
what is synthesized.

Simulators get this same text; the one Icarus-specific adjustment (the X-after-reset trap,
toolchain notes G11) is applied by the simulation runner, see :func:`sim.runner.icarus_patch`.
"""

import argparse
import hashlib
import importlib
import json
import sys
from pathlib import Path

from amaranth.back import rtlil
from amaranth.back import verilog as _verilog
from amaranth.hdl import Const, ValueCastable
from amaranth.hdl._ir import PortDirection  # the port-direction type rtlil.convert expects
from amaranth.lib.wiring import In

from .designs import DESIGNS

__all__ = ["DESIGNS", "design_factory", "elaborate", "to_verilog", "rtl_source_hash", "main"]

_RTL_DIR = Path(__file__).resolve().parent


def design_factory(spec):
    """Resolve ``"package.module:Callable"`` to the callable."""
    module_name, _, attr = spec.partition(":")
    if not attr:
        raise ValueError(f"design spec {spec!r} must look like 'package.module:Callable'")
    return getattr(importlib.import_module(module_name), attr)


def elaborate(spec, params=None):
    """Instantiate the component named by *spec* with keyword *params*."""
    return design_factory(spec)(**(params or {}))


def _ports(component):
    """Ports from the component's signature, as Amaranth would derive them, minus constants.

    A stream with ``always_ready=True`` (or ``always_valid``) has a constant ``ready`` member;
    Amaranth refuses constants as ports ("Only signals and IO ports may be added as ports"), and
    such a line carries no information, so it is simply not a port.
    """
    ports = {}
    for path, member, value in component.signature.flatten(component):
        if isinstance(value, ValueCastable):
            value = value.as_value()
        if isinstance(value, Const):
            continue
        direction = PortDirection.Input if member.flow == In else PortDirection.Output
        ports["__".join(map(str, path))] = (value, direction)
    return ports


def to_verilog(component, name, platform=None, *, src=False):
    """Convert a ``wiring.Component`` to Verilog text (ports named from its signature).

    *platform* is passed to every ``elaborate``; the simulations leave it ``None``. The FPGA
    flow passes :class:`rtl.fpga.platform.ECP5Synthesis`, for which the block-RAM S-boxes
    instantiate DP16KD primitives with their output register (:mod:`rtl.aes.sbox_rom`).
    ``src=True`` keeps Yosys' ``(* src = "file.py:line" *)`` attributes, which code coverage
    uses to map Verilog lines back onto the Amaranth source (sim/coverage_report.py).
    """
    rtlil_text = rtlil.convert(component, name=name, platform=platform, ports=_ports(component),
                               emit_src=src)
    # The private helper is the only way to pass strip_internal_attrs without re-elaborating.
    return _verilog._convert_rtlil_text(rtlil_text, strip_internal_attrs=not src)


def rtl_source_hash():
    """Hash of every Python source under ``rtl/``: any RTL edit invalidates cached Verilog."""
    digest = hashlib.sha256()
    for path in sorted(_RTL_DIR.rglob("*.py")):
        digest.update(str(path.relative_to(_RTL_DIR)).encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def design_key(spec, params):
    """A stable key for (design, parameters, RTL sources)."""
    # The design's own module may live outside rtl/ (test designs): hash it too.
    module_file = Path(importlib.import_module(spec.partition(":")[0]).__file__)
    blob = json.dumps({"spec": spec, "params": params or {}, "rtl": rtl_source_hash(),
                       "module": hashlib.sha256(module_file.read_bytes()).hexdigest()},
                      sort_keys=True, default=repr)
    return hashlib.sha256(blob.encode()).hexdigest()[:16]


def main(argv=None):
    parser = argparse.ArgumentParser(
        prog="python -m rtl.verilog",
        description="Write the Verilog of the project's top-level designs.")
    parser.add_argument("designs", nargs="*",
                        help=f"designs to write (default: all): {', '.join(DESIGNS)}")
    parser.add_argument("-o", "--out-dir", default="build/verilog", type=Path,
                        help="output directory (default: build/verilog)")
    parser.add_argument("--list", action="store_true", help="list the designs and exit")
    args = parser.parse_args(argv)
    if args.list:
        for name, (spec, params) in DESIGNS.items():
            print(f"{name:24} {spec} {params}")
        return 0
    unknown = [d for d in args.designs if d not in DESIGNS]
    if unknown:
        print(f"error: unknown design {', '.join(unknown)}; choose from {', '.join(DESIGNS)}",
              file=sys.stderr)
        return 2
    args.out_dir.mkdir(parents=True, exist_ok=True)
    for name in args.designs or DESIGNS:
        spec, params = DESIGNS[name]
        path = args.out_dir / f"{name}.v"
        path.write_text(to_verilog(elaborate(spec, params), name))
        print(path)
    return 0


if __name__ == "__main__":
    sys.exit(main())
