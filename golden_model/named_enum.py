"""Status and state enums that print their names.

Python 3.11's ``IntEnum`` prints its number (``print(SevStatus.SUCCESS)`` shows ``0``); a
status is read by people, so these print ``SUCCESS`` while staying plain integers everywhere
else (comparisons, ``int()``, ``%d``, ``:#x``, JSON).
"""

import enum

__all__ = ["NamedIntEnum"]


class NamedIntEnum(enum.IntEnum):
    """An ``IntEnum`` whose ``str()`` and ``f"{x}"`` are the member's name."""

    def __str__(self) -> str:
        return self.name
