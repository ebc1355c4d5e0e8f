"""TinyTorch module 01 (setup): environment report, doctor checks, seeding, module report."""

from ._version import __version__
from .allocator import tune_allocator
from .doctor import Check, doctor
from .environment import seed_everything, system_info
from .modules import (
    COURSE_MODULES,
    CourseModule,
    ModuleRecord,
    classify_install,
    module_report,
)
from .report import format_report

__all__ = [
    "COURSE_MODULES",
    "Check",
    "CourseModule",
    "ModuleRecord",
    "__version__",
    "classify_install",
    "doctor",
    "format_report",
    "module_report",
    "seed_everything",
    "system_info",
    "tune_allocator",
]
