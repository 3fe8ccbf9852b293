"""The status model: enum, bundled policies, transition table, policy file errors."""

from __future__ import annotations

import itertools
import tomllib
from importlib import resources
from pathlib import Path

import pytest

from replay import PolicyError, Status, load_policy
from replay.status import TERMINAL, bundled_policies, parse_status

GRAPH_TABLE = {
    "notStarted": {"inProgress", "waiting", "completed", "failed", "deletePending"},
    "inProgress": {"waiting", "updating", "completed", "failed", "deletePending"},
    "waiting": {"inProgress", "notStarted", "completed", "failed", "deletePending"},
    "updating": {"inProgress", "completed", "failed", "deletePending"},
    "deletePending": {"deleteFailed"},
    "completed": set(),
    "failed": set(),
    "deleteFailed": set(),
}


def test_enum_spells_the_graph_values_exactly() -> None:
    assert [s.value for s in Status] == [
        "notStarted", "inProgress", "completed", "updating",
        "failed", "deletePending", "deleteFailed", "waiting",
    ]  # fmt: skip
    assert {"completed", "failed", "deleteFailed"} == TERMINAL


@pytest.mark.parametrize(("from_status", "to_status"), list(itertools.product(Status, Status)))
def test_every_pair_of_the_enum_follows_the_design_table(
    from_status: Status, to_status: Status
) -> None:
    expected = from_status == to_status or to_status.value in GRAPH_TABLE[from_status.value]
    assert load_policy().allows(from_status, to_status) is expected


def test_unknown_statuses_are_never_an_illegal_transition() -> None:
    policy = load_policy("graph-beta")
    assert policy.allows("inProgress", "cancelled")
    assert policy.allows("madeUp", "notStarted")


@pytest.mark.parametrize(
    ("policy_name", "status", "terminal"),
    [
        ("graph-beta", "cancelled", False),
        ("onedrive", "cancelled", True),
        ("onedrive", "cancelPending", False),
        ("onedrive", "completed", True),
    ],
)
def test_bundled_policies_differ_only_where_documented(
    policy_name: str, status: str, terminal: bool
) -> None:
    policy = load_policy(policy_name)
    if policy_name == "graph-beta":
        assert status not in policy.statuses
    else:
        assert status in policy.statuses
        assert (status in policy.terminal) is terminal


def test_bundled_policy_files_load_by_name_and_by_path(tmp_path: Path) -> None:
    assert set(bundled_policies()) == {"graph-beta", "onedrive"}
    text = resources.files("replay").joinpath("policies", "onedrive.toml").read_text()
    path = tmp_path / "mine.toml"
    path.write_text(text)
    assert load_policy(path).statuses == load_policy("onedrive").statuses


@pytest.mark.parametrize(
    ("edit", "message_part"),
    [
        pytest.param('colour = "blue"\n', "unknown key 'colour'", id="bad-key"),
        pytest.param(
            'statuses = ["notStarted"]\n[transitions]\nnotStarted = ["inProgres"]\n',
            "'inProgres'",
            id="unknown-status-in-table",
        ),
        pytest.param('statuses = ["a"]\nterminal = ["b"]\n', "'b'", id="unknown-terminal"),
        pytest.param('statuses = ["a"]\nstall_after_s = -5\n', "stall_after_s", id="bad-stall"),
        pytest.param("statuses = [1, 2]\n", "list of status strings", id="bad-type"),
        pytest.param("statuses = [\n", "not valid TOML", id="bad-toml"),
    ],
)
def test_a_bad_policy_file_names_the_key_and_the_file(
    tmp_path: Path, edit: str, message_part: str
) -> None:
    path = tmp_path / "bad.toml"
    base = "" if edit.startswith("statuses") else 'statuses = ["notStarted"]\n'
    path.write_text(base + edit)
    with pytest.raises(PolicyError) as info:
        load_policy(path)
    assert message_part in str(info.value)
    assert str(path) in str(info.value)
    assert isinstance(info.value, ValueError)


def test_a_missing_policy_names_the_bundled_ones(tmp_path: Path) -> None:
    with pytest.raises(PolicyError, match="graph-beta, onedrive"):
        load_policy(tmp_path / "nope.toml")


def test_parse_status_lists_valid_values() -> None:
    assert parse_status("inProgress") is Status.IN_PROGRESS
    with pytest.raises(ValueError, match="notStarted, inProgress"):
        parse_status("in_progress")


def test_shipped_policies_are_valid_toml_with_only_known_keys() -> None:
    for name in bundled_policies():
        data = tomllib.loads(
            resources.files("replay").joinpath("policies", f"{name}.toml").read_text()
        )
        assert data["name"] == name


def test_every_table_of_dialects_follows_the_protocol_table() -> None:
    from replay.serving import MONITOR_PATHS
    from replay.simulate.scenarios import DIALECT_SHAPES
    from replay.status import DIALECTS

    assert tuple(DIALECT_SHAPES) == DIALECTS
    assert tuple(MONITOR_PATHS) == DIALECTS


@pytest.mark.parametrize(
    ("status", "http", "outcome"),
    [
        ("completed", 200, "completed"),
        ("cancelled", 200, "cancelled"),
        ("deleteFailed", 500, "delete_failed"),
        (None, 303, "completed"),
        (None, 404, "monitor_expired"),
        (None, 410, "monitor_expired"),
        (None, 401, "unauthorized"),
        (None, 403, "unauthorized"),
        ("inProgress", 404, "monitor_expired"),
        ("inProgress", 202, None),
        (None, 429, None),
    ],
)
def test_recorder_verdict_and_engine_outcome_read_one_protocol_table(
    status: str | None, http: int, outcome: str | None
) -> None:
    import pandas as pd

    import replay
    from replay.recorder import stop_outcome

    assert stop_outcome(status, http) == outcome
    obs = pd.DataFrame(
        {
            "job_id": ["j", "j"],
            "seq": [0, 1],
            "ts": pd.to_datetime(["2026-01-01T00:00:00Z", "2026-01-01T00:00:05Z"]),
            "status": ["inProgress", status],
            "http_status": [202, http],
        }
    )
    assert replay.summarize(obs)["outcome"].iloc[0] == (outcome or "abandoned")
