"""Run a command under resource limits: `python -m tinytorch._limited MEMORY_MB FILE_BYTES CMD...`.

`tinytorch grade` starts every child through this instead of a preexec_fn (which is not safe
in a process that runs threads): set the address-space limit (MEMORY_MB, 0 = none), the
file-size limit (FILE_BYTES: caps captured output and any file written) and no core dumps,
then replace this process by CMD. Where `resource` is missing (Windows), CMD runs unlimited.
"""

import os
import sys


def main(argv: list[str]) -> None:
    memory_mb, file_bytes, *command = argv
    try:
        import resource
    except ImportError:
        resource = None
    if resource is not None:
        if int(memory_mb) > 0:
            size = int(memory_mb) * 2**20
            resource.setrlimit(resource.RLIMIT_AS, (size, size))
        resource.setrlimit(resource.RLIMIT_FSIZE, (int(file_bytes), int(file_bytes)))
        resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.execv(command[0], command)


if __name__ == "__main__":
    main(sys.argv[1:])
