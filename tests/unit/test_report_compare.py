"""The comparison report: two simulated fleets side by side, with the right differences."""

from __future__ import annotations

import base64
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pytest
from test_report import PNG_PREFIX, Page, parse

import replay
from replay.errors import UsageError
from replay.report import load_recording, render_comparison, write_comparison
from replay.report._numbers import Metric, difference
from replay.simulate import simulate

#: Before: the catalogue's usual mix. After: many more failures and throttling.
MIXES = {
    "before": {"happy_path": 8.0, "slow_queue": 1.0, "failed_with_error": 1.0},
    "after": {
        "happy_path": 4.0,
        "throttled": 2.0,
        "failed_with_error": 3.0,
        "stuck_percentage": 1.0,
    },
}


@pytest.fixture(scope="module")
def fleets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Two recordings of 150 jobs each, with different scenario mixes, named by folder."""
    root = tmp_path_factory.mktemp("compare")
    return {
        label: simulate(150, seed=i, scenarios=mix).write(root / label)
        for i, (label, mix) in enumerate(MIXES.items())
    }


@pytest.fixture(scope="module")
def compared(fleets: dict[str, Path], tmp_path_factory: pytest.TempPathFactory) -> Page:
    """The comparison of before and after, labelled by folder name."""
    out = tmp_path_factory.mktemp("out") / "compare.html"
    write_comparison(fleets["before"], fleets["after"], out)
    return parse(out.read_text(encoding="utf-8"))


def headline_row(page: Page, name: str) -> list[str]:
    """The cells of a headline row: before, after, difference."""
    start = page.text.index(name)
    return page.text[start + 1 : start + 4]


def summaries(fleets: dict[str, Path]) -> list:
    return [replay.summarize(replay.read(p), jobs=replay.read_jobs(p)) for p in fleets.values()]


@pytest.mark.parametrize(
    "section",
    ["headline", "outcomes", "duration-distribution", "progress-bands", "violations", "provenance"],
)
def test_comparison_has_every_section(compared: Page, section: str) -> None:
    assert section in compared.ids


def test_comparison_names_both_recordings_everywhere(compared: Page) -> None:
    text = " ".join(compared.text)
    assert text.count("before") >= 5 and text.count("after") >= 5
    assert "Copy comparison: before vs after" in compared.text


def test_success_rate_difference_is_in_percentage_points(
    fleets: dict[str, Path], compared: Page
) -> None:
    a, b = ((s["outcome"] == "completed").mean() for s in summaries(fleets))
    assert headline_row(compared, "success rate") == [
        f"{100 * a:.1f}%",
        f"{100 * b:.1f}%",
        f"{100 * (b - a):+.1f} pp",
    ]


@pytest.mark.parametrize("q", [50, 90, 99])
def test_duration_differences_are_relative(fleets: dict[str, Path], compared: Page, q: int) -> None:
    a, b = (np.percentile(s["duration_s"].dropna(), q) for s in summaries(fleets))
    assert headline_row(compared, f"p{q} duration")[2] == f"{100 * (b - a) / a:+.0f}%"


def test_outcome_mix_and_violation_counts_side_by_side(
    fleets: dict[str, Path], compared: Page
) -> None:
    before, after = summaries(fleets)
    start = compared.text.index("Outcome mix")
    for outcome in ("completed", "failed"):
        row = compared.text[compared.text.index(outcome, start) :][:6]
        na, nb = (int((s["outcome"] == outcome).sum()) for s in (before, after))
        assert row[1] == str(na) and row[3] == str(nb)
    counts = [replay.violation_counts(replay.validate(replay.read(p))) for p in fleets.values()]
    start = compared.text.index("Violations", start)
    for code in ("stalled", "no_terminal"):
        row = compared.text[compared.text.index(code, start) :][:5]
        assert row[2:] == [
            f"{counts[0][code]:,}",
            f"{counts[1][code]:,}",
            f"{counts[1][code] - counts[0][code]:+d}",
        ]


def test_overlaid_figures_are_embedded_pngs(compared: Page) -> None:
    assert len(compared.srcs) == 2
    for src in compared.srcs:
        assert base64.b64decode(src[len(PNG_PREFIX) :]).startswith(b"\x89PNG")


def test_labels_override_folder_names(fleets: dict[str, Path], tmp_path: Path) -> None:
    out = write_comparison(
        fleets["before"], fleets["after"], tmp_path / "c.html", labels=("sdk 1.0", "sdk 2.0")
    )
    page = parse(out.read_text(encoding="utf-8"))
    assert "Copy comparison: sdk 1.0 vs sdk 2.0" in page.text


def test_two_recordings_with_one_label_are_refused(fleets: dict[str, Path]) -> None:
    rec = load_recording(fleets["before"])
    with pytest.raises(UsageError, match="--labels"):
        render_comparison(rec, rec)


@pytest.mark.parametrize(
    ("a", "b", "expected"),
    [
        pytest.param(
            Metric("s", 0.5, "", "share"), Metric("s", 0.532, "", "share"), "+3.2 pp", id="share"
        ),
        pytest.param(
            Metric("d", 100.0, "", "size"), Metric("d", 88.0, "", "size"), "-12%", id="size"
        ),
        pytest.param(
            Metric("n", 200.0, "", "count"),
            Metric("n", 250.0, "", "count"),
            "+50 (+25%)",
            id="count",
        ),
        pytest.param(
            Metric("n", 0.0, "", "count"), Metric("n", 5.0, "", "count"), "+5 (new)", id="from zero"
        ),
        pytest.param(
            Metric("d", None, "", "size"), Metric("d", 1.0, "", "size"), "n/a", id="unknown"
        ),
        pytest.param(
            Metric("t (bytes)", 1.0, "", "size"),
            Metric("t (percent)", 1.0, "", "size"),
            "not comparable (different units)",
            id="units",
        ),
    ],
)
def test_difference_sizes(a: Metric, b: Metric, expected: str) -> None:
    assert difference(a, b) == expected
