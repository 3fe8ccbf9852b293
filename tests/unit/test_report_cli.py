"""``replay report``: writes the report where told and says so; user errors exit 2 in one line."""

from __future__ import annotations

import contextlib
from pathlib import Path

import pytest
from test_report import parse

from replay import ReplayWarning
from replay.cli import main
from replay.simulate import simulate


def run_cli(argv: list[str]) -> int | str | None:
    """The exit code of ``replay ARGV`` (argparse's own errors exit through SystemExit)."""
    try:
        return main(argv)
    except SystemExit as done:
        return done.code


@pytest.fixture(scope="module")
def recs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """Two small simulated recordings."""
    root = tmp_path_factory.mktemp("cli")
    return simulate(40, seed=1).write(root / "a"), simulate(40, seed=2).write(root / "b")


@pytest.mark.parametrize(
    ("extra", "title"),
    [
        pytest.param(["--top", "5"], "Copy report: a", id="one recording"),
        pytest.param(["--top", "0", "--policy", "onedrive"], "Copy report: a", id="options"),
        pytest.param(["B", "--compare"], "Copy comparison: a vs b", id="compare"),
        pytest.param(
            ["B", "--compare", "--labels", "old,new"], "Copy comparison: old vs new", id="labels"
        ),
    ],
)
def test_report_is_written_where_told(
    recs: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    extra: list[str],
    title: str,
) -> None:
    out = tmp_path / "r.html"
    argv = [
        "report",
        str(recs[0]),
        *[str(recs[1]) if e == "B" else e for e in extra],
        "-o",
        str(out),
    ]
    assert main(argv) == 0
    assert capsys.readouterr().out.strip() == f"report written to {out}"
    assert title in parse(out.read_text(encoding="utf-8")).text


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        pytest.param(["MISSING"], "does not exist", id="missing folder"),
        pytest.param(["A", "--compare"], "exactly two", id="compare needs two"),
        pytest.param(["A", "B"], "two with --compare", id="two without compare"),
        pytest.param(
            ["A", "B", "--compare", "--labels", "x"], "two different names", id="one label"
        ),
        pytest.param(["A", "--labels", "x,y"], "add --compare", id="labels without compare"),
        pytest.param(["A", "--top", "-1"], "--top", id="negative top"),
        pytest.param(["A", "--policy", "nosuch"], "neither a bundled policy", id="bad policy"),
        pytest.param(
            ["A", "--scheduler", "tcp://127.0.0.1:1"], "--engine dask", id="scheduler alone"
        ),
        pytest.param(["A", "-o", "NODIR/r.html"], "does not exist", id="missing output folder"),
        pytest.param(["A", "--engine", "spark"], "invalid choice", id="bad engine"),
    ],
)
def test_user_errors_exit_2_with_one_line(
    recs: tuple[Path, Path],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    argv: list[str],
    message: str,
) -> None:
    names = {"A": str(recs[0]), "B": str(recs[1]), "MISSING": str(tmp_path / "missing")}
    args = [names.get(a, a.replace("NODIR", str(tmp_path / "nodir"))) for a in argv]
    if "-o" not in args:
        args += ["-o", str(tmp_path / "r.html")]
    code = run_cli(["report", *args])
    err = capsys.readouterr().err
    assert code == 2
    assert len(err.strip().splitlines()) == 1 and message in err
    assert not (tmp_path / "r.html").exists()


@pytest.mark.parametrize(("skip", "code"), [([], 2), (["--skip-bad-files"], 0)])
def test_a_bad_file_fails_the_report_unless_skipped(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], skip: list[str], code: int
) -> None:
    rec = simulate(20, seed=5).write(tmp_path / "rec")
    folder = next((rec / "observations").iterdir())
    (folder / "part-zz-junk.parquet").write_bytes(b"not parquet at all")
    out = tmp_path / "r.html"
    with pytest.warns(ReplayWarning, match="junk") if skip else contextlib.nullcontext():
        assert run_cli(["report", str(rec), "-o", str(out), "--top", "2", *skip]) == code
    err = capsys.readouterr().err
    assert out.exists() is (code == 0)
    assert ("part-zz-junk.parquet" in err) is (code == 2)
