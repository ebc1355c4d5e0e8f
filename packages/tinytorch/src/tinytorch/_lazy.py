"""Names looked up on first use in the `__all__` of the installed module packages.

Nothing is imported until a name is used, so `import tinytorch` works with any subset of the
seventeen modules installed, and a name a package adds later appears here with no change.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys

from tt_setup import COURSE_MODULES, course_table

_MODULES = {module.import_name: module for module in COURSE_MODULES}


def is_installed(import_name: str) -> bool:
    """True when `import import_name` can find the package (it is not imported here)."""
    return importlib.util.find_spec(import_name) is not None


def missing_message(what: str, import_name: str) -> str:
    """The ImportError text for a part of TinyTorch whose module package is not installed."""
    module = _MODULES[import_name]
    return (f"{what} needs {module.distribution} (module {module.number:02d}), which is not "
            f"installed: pip install 'tinytorch[{module.extra}]' from the local packages "
            f"(see the README, 'Installing one exit point')")


class Namespace:
    """A module namespace whose public names come from the `__all__` of `sources`, in order.

    `primary` is the package the namespace cannot work without; `known` maps names that
    the course table promises to the package that provides them, to name it when it is missing.
    `Namespace.from_course_table(name)` builds one from the table's namespace `name`.
    """

    def __init__(self, module_name: str, primary: str, sources: tuple[str, ...],
                 known: dict[str, str] | None = None):
        self.module_name = module_name
        self.primary = primary
        self.sources = sources
        self.known = known or {}

    @classmethod
    def from_course_table(cls, module_name: str) -> Namespace:
        """The namespace the course table describes: its primary module first, then the
        others in course order; their `names` become `known`."""
        table = course_table()
        spec = table.namespace(module_name)
        modules = [table.module(distribution) for distribution in spec.sources]
        known = {name: module.import_name for module in modules for name in module.names}
        return cls(module_name, primary=modules[0].import_name,
                   sources=tuple(module.import_name for module in modules), known=known)

    def require_primary(self) -> None:
        """Raise ImportError naming the extra to install when the primary package is missing."""
        if not is_installed(self.primary):
            raise ImportError(missing_message(self.module_name, self.primary))

    def installed_sources(self) -> list:
        return [importlib.import_module(name) for name in self.sources if is_installed(name)]

    def getattr(self, name: str):
        """Module-level `__getattr__`: find `name`, cache it on the module, or explain."""
        if name.startswith("_"):  # dunder probes (copy, pickle, inspect) expect AttributeError
            raise AttributeError(f"module {self.module_name!r} has no attribute {name!r}")
        for source in self.installed_sources():
            if name in getattr(source, "__all__", ()):
                value = getattr(source, name)
                setattr(sys.modules[self.module_name], name, value)
                return value
        provider = self.known.get(name, self.primary)
        if not is_installed(provider):
            raise ImportError(missing_message(f"{self.module_name}.{name}", provider))
        raise AttributeError(f"module {self.module_name!r} has no attribute {name!r} "
                             f"(it looks in the __all__ of {', '.join(self.sources)})")

    def dir(self) -> list[str]:
        """Module-level `__dir__`: the module's `__all__` plus every installed public name."""
        names = set(getattr(sys.modules[self.module_name], "__all__", ()))
        for source in self.installed_sources():
            names.update(name for name in getattr(source, "__all__", ()) if name[0] != "_")
        return sorted(names)
