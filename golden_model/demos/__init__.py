"""Demos of what inline memory encryption does and does not protect against.

Every module in this package is imported here, so a new module that uses
:func:`golden_model.demos.registry.demo` registers itself without touching this file.
"""

import importlib
import pkgutil

from .registry import Demo, all_demos, demo, get_demo

__all__ = ["Demo", "all_demos", "demo", "get_demo"]

for _info in pkgutil.iter_modules(__path__):
    if _info.name != "registry":
        importlib.import_module(f"{__name__}.{_info.name}")
