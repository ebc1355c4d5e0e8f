"""Makes this folder's helper module (training_problem.py) importable under every pytest import
mode, `--import-mode=importlib` included (which does not put test folders on sys.path)."""

import sys
from pathlib import Path

HERE = str(Path(__file__).resolve().parent)
if HERE not in sys.path:
    sys.path.insert(0, HERE)
