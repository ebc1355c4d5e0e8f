"""`python -m tinytorch`: the same as the `tinytorch` command."""

import sys

from tinytorch.cli import main

sys.exit(main())
