"""tox's install command: pip install without build isolation, hatchling installed first.

With build isolation pip makes a fresh build venv (and asks the index for hatchling) for every
local package it installs: about 3 s each, 15 times for tt-systems. Building with the env's own
hatchling takes a fraction of a second per package.
"""

import importlib.util
import subprocess
import sys

BUILD_BACKEND = ["hatchling>=1.18", "editables>=0.3"]  # editables: for hatchling's `pip -e`


def pip(*args: str) -> int:
    return subprocess.call([sys.executable, "-m", "pip", "install", *args])


if __name__ == "__main__":
    missing = [name for name in ("hatchling", "editables") if not importlib.util.find_spec(name)]
    if missing and pip("--quiet", *BUILD_BACKEND) != 0:
        sys.exit(f"could not install {' '.join(BUILD_BACKEND)}")
    sys.exit(pip("--no-build-isolation", *sys.argv[1:]))
