"""``python -m golden_model``."""

import sys

from .cli import main, run_entry_point

sys.exit(run_entry_point(main))
