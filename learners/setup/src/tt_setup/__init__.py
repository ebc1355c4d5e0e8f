"""TinyTorch module 01 (setup): environment report, doctor checks, seeding, module report,
the course table."""

from ._version import __version__
from .allocator import tune_allocator
from .doctor import Check, check_extras, doctor
from .environment import seed_everything, system_info
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
]
