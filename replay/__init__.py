"""replay: record, replay and analyse Microsoft Graph AsyncJobStatus monitors."""

from __future__ import annotations

import importlib
import sys
import types
from typing import TYPE_CHECKING, Any

from replay.errors import (
    DatasetError,
    DatasetNotFoundError,
    PayloadError,
    PolicyError,
    RecorderError,
    ReplayError,
    ReplayWarning,
    SchemaVersionError,
    ServerError,
    UsageError,
)

if TYPE_CHECKING:
    from replay._engine import ENGINE_COLUMNS
    from replay.importer import import_files
    from replay.recorder import Recorder, RecordSummary, UrlSpec, record
    from replay.server import MonitorServer
    from replay.simulate import SCENARIOS, Fleet, simulate_job
    from replay.status import (
        OUTCOMES,
        TERMINAL,
        Policy,
        Status,
        default_policy,
        load_policy,
    )
    from replay.store import compact, read, read_jobs, write_jobs, write_observations
    from replay.summary import analyse, outcome_counts, summarize
    from replay.transitions import transitions
    from replay.validate import Code, validate, violation_counts

__version__ = "0.1.0"

#: Where each exported name lives. Everything but the errors is imported on first use, so
#: ``import replay`` costs milliseconds: the pytest plugin, the CLI's ``--help`` and code that
#: only catches ``replay.ReplayError`` never load pandas, pyarrow or an HTTP stack.
#: (``simulate`` and ``scan`` are not here: they are module names too,
#: ``replay.simulate.simulate`` and ``replay.scan.scan``.)
_LAZY = {
    **dict.fromkeys(("ENGINE_COLUMNS",), "replay._engine"),
    **dict.fromkeys(("import_files",), "replay.importer"),
    **dict.fromkeys(("Recorder", "RecordSummary", "UrlSpec", "record"), "replay.recorder"),
    **dict.fromkeys(("MonitorServer",), "replay.server"),
    **dict.fromkeys(("SCENARIOS", "Fleet", "simulate_job"), "replay.simulate"),
    **dict.fromkeys(
        ("OUTCOMES", "TERMINAL", "Policy", "Status", "default_policy", "load_policy"),
        "replay.status",
    ),
    **dict.fromkeys(
        ("compact", "read", "read_jobs", "write_jobs", "write_observations"), "replay.store"
    ),
    **dict.fromkeys(("analyse", "outcome_counts", "summarize"), "replay.summary"),
    **dict.fromkeys(("transitions",), "replay.transitions"),
    **dict.fromkeys(("Code", "validate", "violation_counts"), "replay.validate"),
}


def __getattr__(name: str) -> Any:
    """The exported ``name``, or the submodule ``replay.<name>``, imported on first use."""
    module = _LAZY.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
    elif not name.startswith("__"):
        try:
            value = importlib.import_module(f"{__name__}.{name}")
        except ModuleNotFoundError as err:
            if err.name != f"{__name__}.{name}":
                raise  # the submodule exists but needs something missing
            raise AttributeError(f"module 'replay' has no attribute {name!r}") from None
    else:
        raise AttributeError(f"module 'replay' has no attribute {name!r}")
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


#: Exported functions named like the module that defines them (``replay.validate.validate``).
_NAMED_LIKE_THEIR_MODULE = frozenset({"transitions", "validate"})


class _Package(types.ModuleType):
    """``replay`` itself. Importing a submodule binds it on its package (``replay.validate``
    becomes the module); for the names above the function is what ``replay.<name>`` exports,
    so that binding is skipped and the name stays the function, imported on first use."""

    def __setattr__(self, name: str, value: Any) -> None:
        if name in _NAMED_LIKE_THEIR_MODULE and isinstance(value, types.ModuleType):
            return
        super().__setattr__(name, value)


sys.modules[__name__].__class__ = _Package


__all__ = [
    "ENGINE_COLUMNS",
    "OUTCOMES",
    "SCENARIOS",
    "TERMINAL",
    "Code",
    "DatasetError",
    "DatasetNotFoundError",
    "Fleet",
    "MonitorServer",
    "PayloadError",
    "Policy",
    "PolicyError",
    "RecordSummary",
    "Recorder",
    "RecorderError",
    "ReplayError",
    "ReplayWarning",
    "SchemaVersionError",
    "ServerError",
    "Status",
    "UrlSpec",
    "UsageError",
    "__version__",
    "analyse",
    "compact",
    "default_policy",
    "import_files",
    "load_policy",
    "outcome_counts",
    "read",
    "read_jobs",
    "record",
    "simulate_job",
    "summarize",
    "transitions",
    "validate",
    "violation_counts",
    "write_jobs",
    "write_observations",
]
