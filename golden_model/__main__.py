"""``python -m golden_model``."""

import sys

from .cli import main

sys.exit(main())
