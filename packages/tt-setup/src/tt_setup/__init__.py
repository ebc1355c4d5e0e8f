"""TinyTorch module 01 (setup): Environment report, doctor checks, seeding, and the module-package report."""

from ._version import __version__

__all__ = ["__version__"]
