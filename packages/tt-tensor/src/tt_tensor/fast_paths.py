"""`FastPathSwitch`: one package's switch for its fast paths, and the threads they run on.

A fast path is a fused version of a module's lesson code (a `Function` beside the solution
regions) that a package may take instead of the plain composition. Every package with fast
paths exposes the same two public functions, `use_fast_paths(enabled=True, threads=None)`
and `fast_paths_enabled()`; this class is what both are a thin use of, so the switch, its
version-based default and the worker threads are written once.
"""

import contextlib
import os
import threading
from concurrent import futures

_THREAD_VARIABLES = ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS")


class FastPathSwitch:
    """The fast-path switch of one package; `name` (e.g. "tt_attention") names its threads.

    On at creation for the reference and off for a learner's own build (a `+own` version, as
    `tinytorch new` writes it), so training runs the learner's code until they turn the fast
    paths on. Creating a switch starts no thread: the pool (threads - 1 of them, since the
    calling thread works too) starts at the first `run_chunks` that needs more than one
    worker and is reused after that.
    """

    def __init__(self, name, version):
        self.name = name
        self._enabled = self.on_by_default(version)
        self._threads = None          # None: from the environment, read at each run
        self._pool = None             # (process id, size, ThreadPoolExecutor) once started
        self._lock = threading.Lock()

    @staticmethod
    def on_by_default(version):
        """Whether a build with this version starts with its fast paths on (not `+own`)."""
        return "+own" not in version

    @property
    def enabled(self):
        """Whether the package takes its fast paths (what `fast_paths_enabled()` returns)."""
        return self._enabled

    @property
    def threads(self):
        """Worker threads: as set by `use`, else OMP_NUM_THREADS, else OPENBLAS_NUM_THREADS
        (positive integers), else 1."""
        if self._threads is not None:
            return self._threads
        for variable in _THREAD_VARIABLES:
            value = os.environ.get(variable, "")
            if value.isdigit() and int(value) > 0:
                return int(value)
        return 1

    def use(self, enabled=True, threads=None):
        """Turn the fast paths on or off and set the threads (None: from the environment);
        returns the previous setting (a bool). The body of a package's `use_fast_paths`.

        Raises ValueError naming a `threads` that is not a positive int (bools refused)."""
        if threads is not None and (isinstance(threads, bool) or not isinstance(threads, int)
                                    or threads < 1):
            raise ValueError(f"use_fast_paths: threads must be a positive int, got {threads!r}")
        previous, self._enabled = self._enabled, bool(enabled)
        if threads != self._threads:
            self._threads = threads
            self.shutdown(wait=False)  # the next run starts a pool of the new size
        return previous

    def functions(self, what, threads_for=None):
        """The package's two public functions, `(use_fast_paths, fast_paths_enabled)`, over
        this switch, documented with `what` the fast paths are ("gelu's fused tanh form") and
        `threads_for` what the worker threads split (None: the package uses none)."""
        if threads_for is None:
            threads = ("threads: checked like every package's switch (None or a positive int) "
                       "but unused: these fast paths run on one thread.")
        else:
            threads = (f"threads: worker threads for {threads_for} (None: OMP_NUM_THREADS, "
                       "else OPENBLAS_NUM_THREADS, else 1).")

        def use_fast_paths(enabled=True, threads=None):
            return self.use(enabled, threads)

        def fast_paths_enabled():
            return self.enabled

        use_fast_paths.__doc__ = (
            f"Turn {what} on or off; returns the previous setting (a bool).\n\n{threads} "
            "A threads value that is not a positive int is a ValueError naming it.")
        fast_paths_enabled.__doc__ = f"Whether {what} is on (see use_fast_paths)."
        for function in (use_fast_paths, fast_paths_enabled):
            function.__module__ = self.name  # help() and repr() show the package's name
            function.__qualname__ = function.__name__
        return use_fast_paths, fast_paths_enabled

    def run_chunks(self, fn, n, size=None, min_per_worker=1):
        """Call fn(lo, hi) over [0, n) cut into contiguous chunks, one per worker, and wait:
        the first chunk runs on the calling thread, the others on the pool's threads.

        Workers: min(threads, n, size // min_per_worker), `size` (default n) being the
        elements the work touches: below `min_per_worker` elements each, a thread costs more
        than it saves. With one worker, fn(0, n) runs inline. A worker's exception is raised
        here, after every chunk has finished. NumPy releases the GIL inside its loops, so chunks
        of array work run at once.
        """
        size = n if size is None else size
        if n <= 1 or size < 2 * min_per_worker:
            fn(0, n)  # one worker whatever the threads (decoding's one row): not read at all
            return
        threads = self.threads
        workers = min(threads, n, size // min_per_worker)
        if workers <= 1:
            fn(0, n)
            return
        bounds = [n * i // workers for i in range(workers + 1)]  # ints: no NumPy call
        with self._lock:  # no shutdown between taking the pool and submitting to it
            pool = self._started(threads - 1)
            jobs = [pool.submit(fn, lo, hi) for lo, hi in zip(bounds[1:-1], bounds[2:])]
        try:  # the first chunk on this thread: one thread fewer to wake, none left idle
            fn(bounds[0], bounds[1])
        finally:  # every chunk done (none still writing) before an error is raised
            for job in jobs:
                job.exception()  # waits for the job; its error is raised just below
        for job in jobs:
            job.result()

    def _started(self, size):
        """The pool of `size` threads of this process (the lock held): reused while the size
        holds; a forked child has none of its parent's threads, so it starts its own."""
        if self._pool is not None and self._pool[:2] == (os.getpid(), size):
            return self._pool[2]
        if self._pool is not None and self._pool[0] == os.getpid():
            self._pool[2].shutdown(wait=False)  # its threads finish their jobs, then exit
        pool = futures.ThreadPoolExecutor(size, thread_name_prefix=self.name)
        self._pool = (os.getpid(), size, pool)
        return pool

    def shutdown(self, wait=True):
        """Stop the worker threads (after their jobs; `wait`: until they have exited). The
        switch stays usable: the next run that needs workers starts a new pool."""
        with self._lock:
            pool, self._pool = self._pool, None
        if pool is not None and pool[0] == os.getpid():
            pool[2].shutdown(wait=wait)

    def __repr__(self):
        state = "on" if self._enabled else "off"
        return f"FastPathSwitch({self.name!r}, {state}, threads={self.threads})"


@contextlib.contextmanager
def fast_paths_off(*modules):
    """Within the block, the fast paths of each given module (a package such as tt_spatial)
    are off; afterwards each switch is back where it was, whatever the block raised.

    A module without `use_fast_paths` (a learner's own build may have none) is left alone, so
    a contract test that checks the plain lesson code runs the same on any implementation.
    """
    switches = [m.use_fast_paths for m in modules if hasattr(m, "use_fast_paths")]
    before = [switch(False) for switch in switches]
    try:
        yield
    finally:
        for switch, enabled in zip(switches, before):
            switch(enabled)
