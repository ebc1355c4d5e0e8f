"""TinyTorch module 01 (setup): environment report, doctor checks, seeding, module report,
the course table."""

from ._version import __version__
from .allocator import tune_allocator
from .doctor import Check, check_extras, doctor
from .files import write_atomically
from .modules import COURSE_MODULES, ModuleRecord, classify_install, module_report
from .report import format_report, report_dict
from .table import (
    CourseModule,
    CourseNamespace,
    CoursePart,
    CourseTable,
    CourseTableError,
    ExtraEdge,
    course_table,
)

__all__ = [
    "COURSE_MODULES",
    "Check",
    "CourseModule",
    "CourseNamespace",
    "CoursePart",
    "CourseTable",
    "CourseTableError",
    "ExtraEdge",
    "ModuleRecord",
    "__version__",
    "check_extras",
    "classify_install",
    "course_table",
    "doctor",
    "format_report",
    "module_report",
    "report_dict",
    "seed_everything",
    "system_info",
    "tune_allocator",
    "write_atomically",
]


def __getattr__(name):
    # seed_everything and system_info live in .environment, which imports NumPy: loaded on
    # first use, so that importing tt_setup (and tinytorch, which reads the course table
    # from it) leaves NumPy unloaded and a capstone can still set BLAS's thread count.
    if name in ("seed_everything", "system_info"):
        from . import environment

        return getattr(environment, name)
    raise AttributeError(f"module 'tt_setup' has no attribute {name!r}")
