"""Numeric options: NaN, infinity, negative and out-of-range values are one line and exit 2."""

from __future__ import annotations

import pytest

from replay.cli import main

URL = "http://127.0.0.1:9/_api/v2.0/monitor/job-1"


@pytest.mark.parametrize(
    ("argv", "says"),
    [
        (["record", "--out", "x", "--max-rps", "nan", URL], "--max-rps: 'nan'"),
        (["record", "--out", "x", "--max-rps", "-1", URL], "--max-rps: '-1'"),
        (["record", "--out", "x", "--interval", "0", URL], "--interval: '0'"),
        (["record", "--out", "x", "--max-interval", "inf", URL], "--max-interval: 'inf'"),
        (["record", "--out", "x", "--deadline", "-5", URL], "--deadline: '-5'"),
        (["serve", "--speed", "nan"], "--speed: 'nan'"),
        (["serve", "--port", "70000"], "--port: '70000'"),
        (["serve", "--jobs", "0"], "--jobs: '0'"),
        (["simulate", "--jobs", "1.5", "--out", "x"], "--jobs: '1.5'"),
        (["simulate", "--jobs", "3", "--seed", "-1", "--out", "x"], "--seed: '-1'"),
        (["validate", "x", "--limit", "-3"], "--limit: '-3'"),
        (["check-poller", "--timeout", "0", "--", "true", "{url}"], "--timeout: '0'"),
        (["check-poller", "--parallel", "0", "--", "true", "{url}"], "--parallel: '0'"),
        (["demo", "--jobs", "-2"], "--jobs: '-2'"),
    ],
)
def test_a_bad_number_is_refused_with_one_line(
    argv: list[str], says: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:  # argparse's own errors exit through SystemExit
        main(argv)
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err


@pytest.mark.parametrize(
    ("argv", "attribute", "value"),
    [
        (["record", "--out", "x", "--max-rps", "0", URL], "max_rps", 0.0),
        (["record", "--out", "x", "--deadline", "0", URL], "deadline", 0.0),
        (["serve", "--port", "0"], "port", 0),
    ],
)
def test_zero_where_it_means_something_is_taken(
    argv: list[str], attribute: str, value: float
) -> None:
    from replay.cli._main import build_parser

    assert getattr(build_parser().parse_args(argv), attribute) == value
