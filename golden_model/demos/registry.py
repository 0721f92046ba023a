"""Demo registry: ``@demo("name", "one-line help")`` registers a demo for ``python -m golden_model demo``.

A demo is a function ``fn(out: TextIO) -> bool``. It prints a clear *before* and *after* to
``out`` and returns ``True`` when the model showed what the demo claims (the CLI then exits 0).
A demo that finds the model misbehaving returns ``False`` (exit 1); it never needs a traceback.

A demo registered with ``dumps=True`` also takes ``dump_dir`` (a :class:`pathlib.Path` or
``None``): it then writes each scenario's raw DRAM image there (``demo NAME --dump DIR``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

__all__ = ["Demo", "DemoFunction", "demo", "get_demo", "all_demos"]

DemoFunction = Callable[[TextIO], bool]


@dataclass(frozen=True)
class Demo:
    """One registered demo.

    Attributes
    ----------
    name : str
        The name given on the command line (``demo NAME``).
    help : str
        One line shown by ``demo --list``.
    run : callable
        ``run(out) -> bool``; ``run(out, dump_dir=path)`` too when ``dumps``.
    dumps : bool
        Whether the demo writes raw DRAM images (``--dump DIR``).
    """

    name: str
    help: str
    run: DemoFunction
    dumps: bool = False


_REGISTRY: dict[str, Demo] = {}


def demo(name: str, help: str, *, dumps: bool = False) -> Callable[[DemoFunction], DemoFunction]:
    """Register the decorated function as demo ``name``; the function itself is returned unchanged."""

    def register(fn: DemoFunction) -> DemoFunction:
        if name in _REGISTRY and _REGISTRY[name].run is not fn:
            raise ValueError(f"demo {name!r} registered twice")
        _REGISTRY[name] = Demo(name, help, fn, dumps)
        return fn

    return register


def get_demo(name: str) -> Demo | None:
    """The demo called ``name``, or ``None``."""
    return _REGISTRY.get(name)


def all_demos() -> list[Demo]:
    """Every registered demo, sorted by name."""
    return [_REGISTRY[n] for n in sorted(_REGISTRY)]
