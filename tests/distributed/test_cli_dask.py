"""``replay validate|summary --engine dask``: the pandas engine's output and exit codes, on a real cluster."""

from __future__ import annotations

import json
from collections.abc import Callable
from pathlib import Path

import pytest
from distributed import LocalCluster

import replay.distributed._cluster as cluster_module
from replay.cli import main


def _run(argv: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(argv)
    out, err = capsys.readouterr()
    return code, out, err


@pytest.mark.parametrize(("command", "extra", "code"), [
    ("validate", [], 1),
    ("validate", ["--policy", "onedrive", "--fail-on", "warning"], 1),
    ("summary", [], 0),
    ("summary", ["--policy", "onedrive"], 0),
])  # fmt: skip
def test_json_output_and_exit_code_equal_the_pandas_engine(
    cluster: LocalCluster,
    recording: Path,
    capsys: pytest.CaptureFixture[str],
    command: str,
    extra: list[str],
    code: int,
) -> None:
    """The recording's jobs straddle UTC midnight, so they span date partitions and files."""
    argv = [command, str(recording), "--format", "json", *extra]
    pandas_code, pandas_out, _ = _run(argv, capsys)
    dask_argv = [*argv, "--engine", "dask", "--scheduler", cluster.scheduler_address]
    dask_code, dask_out, dask_err = _run(dask_argv, capsys)
    assert (dask_code, pandas_code) == (code, code)
    assert json.loads(dask_out) == json.loads(pandas_out)
    assert len(json.loads(pandas_out)["violations" if command == "validate" else "jobs"]) > 100
    assert f"dask dashboard: {cluster.dashboard_link}" in dask_err


def test_without_a_scheduler_a_local_cluster_runs_and_its_dashboard_goes_to_stderr(
    tmp_path: Path, record_fleet: Callable[..., Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root = record_fleet(tmp_path, 60, seed=4, files=2)
    argv = ["summary", str(root), "--format", "json"]
    _, expected, _ = _run(argv, capsys)
    code, out, err = _run([*argv, "--engine", "dask"], capsys)
    assert code == 0
    assert json.loads(out) == json.loads(expected)
    assert "dask dashboard: http://" in err


@pytest.mark.parametrize("command", ["validate", "summary"])
def test_skip_bad_files_reaches_the_dask_engine(
    cluster: LocalCluster,
    tmp_path: Path,
    record_fleet: Callable[..., Path],
    capsys: pytest.CaptureFixture[str],
    command: str,
) -> None:
    root = record_fleet(tmp_path, 80, seed=6, files=2)
    folder = next((root / "observations").iterdir())
    (folder / "part-zzz-foreign.parquet").write_bytes(b"not parquet")
    argv = [command, str(root), "--format", "json", "--engine", "dask"]
    argv += ["--scheduler", cluster.scheduler_address]
    code, out, err = _run(argv, capsys)
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and "part-zzz-foreign.parquet" in err
    with pytest.warns(UserWarning, match="foreign"):
        code, skipped, _ = _run([*argv, "--skip-bad-files"], capsys)
    with pytest.warns(UserWarning, match="foreign"):
        _, expected, _ = _run([command, str(root), "--format", "json", "--skip-bad-files"], capsys)
    assert json.loads(skipped) == json.loads(expected)


@pytest.mark.parametrize(("address", "says"), [
    ("tcp://127.0.0.1:9", "Timed out"),
    ("http://127.0.0.1:8786", "unknown address scheme"),
])  # fmt: skip
def test_an_unreachable_scheduler_is_one_line_and_exit_2(
    recording: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    address: str,
    says: str,
) -> None:
    monkeypatch.setattr(cluster_module, "CONNECT_TIMEOUT_S", 0.5)
    code, out, err = _run(
        ["validate", str(recording), "--engine", "dask", "--scheduler", address], capsys
    )
    assert (code, out) == (2, "")
    assert err.count("\n") == 1 and address in err and says in err and "--scheduler" in err
