"""Training job tests: put the example's directory on sys.path (its `training_job` package)."""

from __future__ import annotations

import sys
from pathlib import Path

APP_DIR = Path(__file__).resolve().parents[1]
# Appended, not prepended: the project root stays ahead of it, so `tests.*` names the project's tests/.
if str(APP_DIR) not in sys.path:
    sys.path.append(str(APP_DIR))
