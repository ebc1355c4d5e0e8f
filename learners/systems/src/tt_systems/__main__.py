"""`python -m tt_systems {profile,bench,serve,export} ...`: the same as `tinytorch <command>`."""

import sys

from .cli import COMMANDS


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if not argv or argv[0] not in COMMANDS:
        names = ", ".join(COMMANDS)
        print(f"usage: python -m tt_systems {{{names}}} [args]", file=sys.stderr)
        return 2
    # errors name the command as it was typed here, not as `tinytorch ...`
    return COMMANDS[argv[0]][0](argv[1:], prog=f"python -m tt_systems {argv[0]}")


if __name__ == "__main__":
    sys.exit(main())
