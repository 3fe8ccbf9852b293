"""The status model: the Status enum, the protocol table (how a job ends) and Policy from TOML."""

from __future__ import annotations

import functools
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from enum import StrEnum
from importlib import resources
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from replay.errors import PolicyError

__all__ = [
    "COMPLETION_HTTP",
    "DIALECTS",
    "DIALECT_STATUSES",
    "ERROR_OUTCOME",
    "GIVE_UP_HTTP",
    "HTTP_OUTCOME",
    "OUTCOMES",
    "STOP_STATUSES",
    "TERMINAL",
    "TERMINAL_OUTCOME",
    "THROTTLED_HTTP",
    "Policy",
    "Status",
    "bundled_policies",
    "default_policy",
    "load_policy",
    "parse_status",
]


class Status(StrEnum):
    """The Graph beta ``asyncJobStatus`` values, spelled exactly as the service sends them."""

    NOT_STARTED = "notStarted"
    IN_PROGRESS = "inProgress"
    COMPLETED = "completed"
    UPDATING = "updating"
    FAILED = "failed"
    DELETE_PENDING = "deletePending"
    DELETE_FAILED = "deleteFailed"
    WAITING = "waiting"


#: Terminal in the Graph beta enum (the default policy's terminal set). A policy may say
#: otherwise; the recorder, the outcome rule and check-poller use :data:`STOP_STATUSES`.
TERMINAL: frozenset[str] = frozenset({Status.COMPLETED, Status.FAILED, Status.DELETE_FAILED})

#: Statuses that are not in the Graph beta enum but are documented elsewhere, with where.
DIALECT_STATUSES: Mapping[str, str] = {
    "cancelled": "ends the job in the OneDrive dialect, documented since 2021, but is outside "
    "the graph-beta enum; accepted by policy 'onedrive'",
    "cancelPending": "documented by OneDrive since 2021; accepted by policy 'onedrive'",
    "running": "a longRunningOperation status, not an asyncJobStatus one",
    "succeeded": "a longRunningOperation status, not an asyncJobStatus one",
}

# -- the protocol table: how a job ends, whoever asks (recorder, engine, test timelines,
# -- check-poller). Reference sections 1.5 and 4.

#: The job outcomes of the contract, in the order reports list them.
OUTCOMES: tuple[str, ...] = (
    "completed",
    "failed",
    "delete_failed",
    "cancelled",
    "timed_out",
    "monitor_expired",
    "unauthorized",
    "abandoned",
    "protocol_error",
)

#: The outcome each status that ends a job in some known dialect means.
TERMINAL_OUTCOME: Mapping[str, str] = MappingProxyType(
    {
        "completed": "completed",
        "failed": "failed",
        "deleteFailed": "delete_failed",
        "cancelled": "cancelled",
    }
)

#: Statuses terminal in some known dialect (the Graph beta terminal set plus OneDrive's
#: ``cancelled``): the recorder stops following a job at any of them, a poller should stop too.
STOP_STATUSES: frozenset[str] = frozenset(TERMINAL_OUTCOME)

#: The outcome an HTTP status ends a job with when the body names no stop status: a 303 is the
#: legacy completion, 404/410 an expired monitor, 401/403 a refused credential.
HTTP_OUTCOME: Mapping[int, str] = MappingProxyType(
    {
        303: "completed",
        404: "monitor_expired",
        410: "monitor_expired",
        401: "unauthorized",
        403: "unauthorized",
    }
)

#: The outcome an error code ends a job with when the body names no stop status, whatever the
#: HTTP status: ``operationNotFound`` says the monitor no longer knows the operation (a 500 at the
#: end of a copy whose name conflicted, onedrive-api-docs#766), so polling on cannot help.
ERROR_OUTCOME: Mapping[str, str] = MappingProxyType({"operationNotFound": "monitor_expired"})

#: HTTP statuses that complete a job (the legacy 303 to the copied item).
COMPLETION_HTTP: frozenset[int] = frozenset(c for c, o in HTTP_OUTCOME.items() if o == "completed")
#: HTTP statuses after which a poller should give up instead of polling on.
GIVE_UP_HTTP: frozenset[int] = frozenset(HTTP_OUTCOME) - COMPLETION_HTTP

#: HTTP statuses that mean "slow down" (with Retry-After, or without).
THROTTLED_HTTP: frozenset[int] = frozenset({429, 503})

#: The monitor dialects of the reference (section 1.2): URL shape, body shape, HTTP codes.
DIALECTS: tuple[str, ...] = ("legacy", "graph", "sharepoint-v21", "consumer")

_POLICY_KEYS = frozenset(
    {"name", "description", "statuses", "terminal", "stall_after_s", "transitions"}
)


def parse_status(value: str) -> Status:
    """Return the Status spelled ``value``; raise ValueError naming the valid values otherwise."""
    try:
        return Status(value)
    except ValueError:
        valid = ", ".join(s.value for s in Status)
        raise ValueError(f"unknown status {value!r}: expected one of {valid}") from None


@dataclass(frozen=True, eq=False)
class Policy:
    """Allowed statuses, allowed transitions, terminal set and thresholds, as data.

    The order of ``statuses`` defines the categorical codes the engine works on; code
    ``len(statuses)`` stands for any status outside the policy.
    """

    name: str
    statuses: tuple[str, ...]
    terminal: frozenset[str]
    transitions: Mapping[str, frozenset[str]]
    stall_after_s: float = 1800.0
    description: str = ""
    source: str = ""
    _matrix: np.ndarray = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        n = len(self.statuses)
        matrix = np.zeros((n + 1, n + 1), dtype=bool)
        index = {s: i for i, s in enumerate(self.statuses)}
        for src, targets in self.transitions.items():
            for dst in targets:
                matrix[index[src], index[dst]] = True
        np.fill_diagonal(matrix, True)
        # An unknown status is flagged once as unknown_status, never again as a transition.
        matrix[n, :] = True
        matrix[:, n] = True
        object.__setattr__(self, "_matrix", matrix)

    @property
    def unknown_code(self) -> int:
        """The categorical code standing for any status outside the policy."""
        return len(self.statuses)

    @property
    def matrix(self) -> np.ndarray:
        """Boolean ``allowed[from_code, to_code]``; self-repeats and unknown codes are True."""
        return self._matrix

    @property
    def terminal_codes(self) -> np.ndarray:
        """Boolean per code (unknown last): is the status terminal in this policy."""
        return np.array([s in self.terminal for s in self.statuses] + [False])

    def allows(self, from_status: str, to_status: str) -> bool:
        """Whether ``from_status`` may be followed by ``to_status``."""
        codes = self.codes([from_status, to_status])
        return bool(self._matrix[codes[0], codes[1]])

    def codes(self, statuses: Any) -> np.ndarray:
        """Categorical codes of an iterable of status strings (unknown and null get ``unknown_code``)."""
        index = {s: i for i, s in enumerate(self.statuses)}
        return np.array([index.get(s, self.unknown_code) for s in statuses], dtype=np.int16)

    @classmethod
    def from_mapping(cls, data: Mapping[str, Any], source: str = "<mapping>") -> Policy:
        """Build a policy from parsed TOML; raise PolicyError naming the bad key and the file."""
        for key in data:
            if key not in _POLICY_KEYS:
                allowed = ", ".join(sorted(_POLICY_KEYS))
                raise PolicyError(
                    f"{source}: unknown key {key!r} (allowed keys: {allowed})", key=key, path=source
                )
        statuses = _string_list(data.get("statuses"), "statuses", source)
        if not statuses:
            raise PolicyError(f"{source}: 'statuses' must list at least one status", path=source)
        known = set(statuses)
        terminal = _string_list(data.get("terminal", []), "terminal", source)
        _check_known(terminal, known, "terminal", source)
        table = data.get("transitions", {})
        if not isinstance(table, Mapping):
            raise PolicyError(
                f"{source}: 'transitions' must be a table", key="transitions", path=source
            )
        transitions: dict[str, frozenset[str]] = {}
        for src, targets in table.items():
            _check_known([src], known, f"transitions.{src}", source)
            dsts = _string_list(targets, f"transitions.{src}", source)
            _check_known(dsts, known, f"transitions.{src}", source)
            transitions[src] = frozenset(dsts)
        stall = data.get("stall_after_s", 1800)
        if isinstance(stall, bool) or not isinstance(stall, int | float) or stall <= 0:
            raise PolicyError(
                f"{source}: 'stall_after_s' must be a positive number of seconds, got {stall!r}",
                key="stall_after_s",
                path=source,
            )
        return cls(
            name=str(data.get("name") or Path(source).stem),
            statuses=tuple(statuses),
            terminal=frozenset(terminal),
            transitions=transitions,
            stall_after_s=float(stall),
            description=str(data.get("description", "")),
            source=source,
        )


def _string_list(value: Any, key: str, source: str) -> list[str]:
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise PolicyError(
            f"{source}: {key!r} must be a list of status strings", key=key, path=source
        )
    return list(value)


def _check_known(values: list[str], known: set[str], key: str, source: str) -> None:
    for value in values:
        if value not in known:
            raise PolicyError(
                f"{source}: {key!r} names status {value!r}, which is not in 'statuses' "
                f"(add it to 'statuses' or fix the spelling)",
                key=key,
                path=source,
            )


def bundled_policies() -> tuple[str, ...]:
    """Names of the policies shipped in ``replay/policies/``."""
    files = resources.files("replay").joinpath("policies").iterdir()
    return tuple(sorted(f.name.removesuffix(".toml") for f in files if f.name.endswith(".toml")))


def load_policy(name_or_path: str | Path | Policy | None = None) -> Policy:
    """Return a Policy: a bundled name (``graph-beta``, ``onedrive``), a TOML path, or the default."""
    if isinstance(name_or_path, Policy):
        return name_or_path
    if name_or_path is None:
        return default_policy()
    text = str(name_or_path)
    if text in bundled_policies():
        return _bundled(text)
    path = Path(text)
    if not path.is_file():
        names = ", ".join(bundled_policies())
        raise PolicyError(
            f"policy {text!r} is neither a bundled policy ({names}) nor a readable TOML file",
            path=text,
        )
    return _parse_file(path)


def _parse_file(path: Path) -> Policy:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as err:
        raise PolicyError(f"{path}: not valid TOML ({err})", path=str(path)) from None
    return Policy.from_mapping(data, source=str(path))


@functools.cache
def _bundled(name: str) -> Policy:
    resource = resources.files("replay").joinpath("policies", f"{name}.toml")
    data = tomllib.loads(resource.read_text(encoding="utf-8"))
    return Policy.from_mapping(data, source=f"{name}.toml")


def default_policy() -> Policy:
    """The default policy: Graph beta (``graph-beta``)."""
    return _bundled("graph-beta")
