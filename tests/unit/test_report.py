"""The HTML report: every section, no external reference, every image decodes, links resolve."""

from __future__ import annotations

import base64
import io
import re
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.image as mpimg
import numpy as np
import pandas as pd
import pytest
from factories import obs_frame

import replay
from replay.report import load_recording, render_report, write_report
from replay.simulate import simulate

PNG_PREFIX = "data:image/png;base64,"
SECTIONS = (
    "headline",
    "outcomes",
    "error-codes",
    "progress-curves",
    "failure-modes",
    "duration-distribution",
    "time-in-status",
    "throughput",
    "fleet-timeline",
    "unknown-statuses",
    "violations",
    "jobs",
    "provenance",
)


@dataclass
class Page(HTMLParser):
    """What a report's HTML holds: element ids, link targets, image sources, text by section."""

    ids: list[str] = field(default_factory=list)
    hrefs: list[str] = field(default_factory=list)
    srcs: list[str] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        super().__init__()

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if found.get("id"):
            self.ids.append(str(found["id"]))
        if "href" in found:
            self.hrefs.append(str(found["href"]))
        if "src" in found:
            self.srcs.append(str(found["src"]))

    def handle_data(self, data: str) -> None:
        if data.strip():
            self.text.append(data.strip())


def parse(html: str) -> Page:
    page = Page()
    page.feed(html)
    page.close()
    return page


def row_after(page: Page, label: str, text: list[str] | None = None) -> str:
    """The text cell right after the (first) cell whose text is ``label``."""
    cells = page.text if text is None else text
    return cells[cells.index(label) + 1]


def unknown_section(page: Page) -> list[str]:
    """The text of the unknown-statuses section."""
    start = page.text.index("Unknown status values")
    return page.text[start : page.text.index("Violations", start)]


@pytest.fixture(scope="module")
def recording(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A simulated recording of every scenario (unknown statuses, failures, violations)."""
    path = tmp_path_factory.mktemp("report") / "migration"
    return simulate(120, seed=3, scenarios=list(replay.SCENARIOS)).write(path)


@pytest.fixture(scope="module")
def report(recording: Path, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Page]:
    """The report of ``recording`` with the default policy and ``top=12``."""
    out = write_report(recording, tmp_path_factory.mktemp("out") / "report.html", top=12)
    html = out.read_text(encoding="utf-8")
    return html, parse(html)


@pytest.mark.parametrize("section", SECTIONS)
def test_report_has_every_section(report: tuple[str, Page], section: str) -> None:
    assert section in report[1].ids


def test_report_references_nothing_outside_itself(report: tuple[str, Page]) -> None:
    html, page = report
    assert all(src.startswith(PNG_PREFIX) for src in page.srcs)
    assert all(href.startswith("#") for href in page.hrefs)
    assert not re.search(r"https?://|<script|<link", html)


def test_every_embedded_image_is_a_png_matplotlib_can_read(report: tuple[str, Page]) -> None:
    page = report[1]
    images = [base64.b64decode(src[len(PNG_PREFIX) :]) for src in page.srcs]
    jobs = [i for i in page.ids if i.startswith("job-")]
    assert len(images) == 6 + len(jobs)  # the six figures, then each linked job's timeline
    for data in images:
        assert data.startswith(b"\x89PNG\r\n\x1a\n")
        pixels = mpimg.imread(io.BytesIO(data), format="png")
        assert pixels.ndim == 3 and min(pixels.shape[:2]) > 20


def test_violation_links_resolve_to_job_sections(report: tuple[str, Page]) -> None:
    _, page = report
    links = [h[1:] for h in page.hrefs if h.startswith("#job-")]
    assert len(links) == 12
    assert set(links) <= set(page.ids)
    assert len(page.ids) == len(set(page.ids))
    sections = [i for i in page.ids if i.startswith("job-")]
    assert sections == list(dict.fromkeys(links))


def test_headline_numbers_are_the_summary_s(recording: Path, report: tuple[str, Page]) -> None:
    summary = replay.summarize(replay.read(recording), jobs=replay.read_jobs(recording))
    page = report[1]
    success = 100 * (summary["outcome"] == "completed").mean()
    assert f"{len(summary):,}" in page.text
    assert f"{success:.1f}%" in page.text
    for outcome, n in replay.outcome_counts(summary).items():
        assert row_after(page, outcome) == f"{n:,}"


def test_provenance_names_the_dataset_schema_policy_and_time_range(
    recording: Path, report: tuple[str, Page]
) -> None:
    obs = replay.read(recording)
    page = report[1]
    assert row_after(page, "dataset") == str(recording)
    assert row_after(page, "schema version") == "1"
    assert row_after(page, "policy") == "graph-beta"
    assert row_after(page, "tool version") == f"replay {replay.__version__}"
    first, last = obs["ts"].min(), obs["ts"].max()
    assert (
        row_after(page, "time range")
        == f"{first:%Y-%m-%d %H:%M:%S} to {last:%Y-%m-%d %H:%M:%S} UTC"
    )
    generated = pd.Timestamp(row_after(page, "generated at").removesuffix(" UTC"), tz="UTC")
    assert abs(pd.Timestamp.now(tz="UTC") - generated) < pd.Timedelta(minutes=10)


def test_unknown_statuses_show_when_each_first_appeared(
    recording: Path, report: tuple[str, Page]
) -> None:
    obs = replay.read(recording)
    policy = replay.load_policy()
    outside = obs[~obs["status"].isin(policy.statuses) & obs["status"].notna()]
    assert len(outside)
    text = unknown_section(report[1])
    for status, rows in outside.groupby(outside["status"].astype(str)):
        first = rows.loc[rows["ts"].idxmin()]
        cells = text[text.index(status) : text.index(status) + 5]
        assert cells[1:] == [
            first["ts"].strftime("%Y-%m-%d %H:%M:%S UTC"),
            str(first["job_id"]),
            str(rows["job_id"].nunique()),
            str(len(rows)),
        ]


@pytest.mark.parametrize(
    ("policy", "listed"),
    [
        pytest.param(None, True, id="default policy flags OneDrive's cancelPending"),
        pytest.param("onedrive", False, id="onedrive policy accepts it"),
    ],
)
def test_the_policy_decides_what_is_unknown(
    recording: Path, policy: str | None, listed: bool
) -> None:
    rec = load_recording(recording, policy=policy)
    page = parse(render_report(rec.obs, policy=policy, jobs=rec.jobs, top=3))
    assert ("cancelPending" in unknown_section(page)) is listed
    assert row_after(page, "policy") == rec.policy.name


def test_in_memory_frame_report_lists_an_unknown_status_and_its_job() -> None:
    frame = obs_frame(
        {
            "a": [
                (0, "notStarted", 0.0, 202),
                (10, "inProgress", 40.0, 202),
                (20, "completed", 100.0, 200),
            ],
            "b": [(0, "inProgress", 10.0, 202), (5, "weird", None, 200)],
        }
    )
    page = parse(render_report(frame, name="two jobs"))
    assert "weird" in page.text
    assert "job-b" in page.ids and "#job-b" in page.hrefs
    assert row_after(page, "schema version").startswith("n/a")


def test_top_zero_lists_no_violation_and_no_job(recording: Path, tmp_path: Path) -> None:
    page = parse(write_report(recording, tmp_path / "r.html", top=0).read_text(encoding="utf-8"))
    assert not [h for h in page.hrefs if h.startswith("#job-")]
    assert not [i for i in page.ids if i.startswith("job-")]


def test_odd_job_ids_get_valid_anchors_that_resolve() -> None:
    frame = obs_frame(
        {"drive item/with spaces": [(0, "inProgress", 10.0, 202), (5, "odd", None, 200)]}
    )
    page = parse(render_report(frame))
    links = [h[1:] for h in page.hrefs if h.startswith("#job-")]
    assert links and all(" " not in link for link in links)
    assert set(links) <= set(page.ids)


@pytest.mark.slow  # a LocalCluster: worker processes on local sockets
def test_dask_engine_counts_every_job_and_unknown_status_and_samples_curves(
    recording: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import replay.report._data as data

    monkeypatch.setattr(data, "SAMPLE_JOBS", 30)
    rec = load_recording(recording, engine="dask", top=5)
    pandas_rec = load_recording(recording)
    assert rec.sampled_jobs < len(rec.summary) == len(pandas_rec.summary)
    assert np.array_equal(
        rec.summary.sort_values("job_id")["outcome"].to_numpy(),
        pandas_rec.summary.sort_values("job_id")["outcome"].to_numpy(),
    )
    from replay.report._numbers import unknown_statuses
    from replay.report._render import render

    pd.testing.assert_frame_equal(unknown_statuses(rec), unknown_statuses(pandas_rec))
    html = render(rec, top=5)
    assert f"from {rec.sampled_jobs:,} of {len(rec.summary):,} jobs" in html


def test_top_violations_show_every_code_before_repeating_one(recording: Path) -> None:
    from replay.report._data import top_violations

    violations = load_recording(recording).violations
    present = set(violations["code"].astype(str))
    top = top_violations(violations, len(present))
    assert set(top["code"].astype(str)) == present
    assert list(top["severity"]) == sorted(top["severity"])  # errors, then warnings
    firsts = violations.sort_values(["ts", "job_id", "seq"]).drop_duplicates("code")
    picked = top[["job_id", "seq"]].to_numpy().tolist()
    assert sorted(picked) == sorted(firsts[["job_id", "seq"]].to_numpy().tolist())


#: What a reader must never see: Python's and pandas' raw values, floats to many decimals,
#: timestamps below the second, dict reprs.
RAW = re.compile(
    r"\b(nan|NaN|NaT|None|inf)\b|<NA>|dtype|\d\.\d{4,}|\{'|:\d\d\.\d+\b|\d+\.\d+e[+-]?\d"
)


@pytest.fixture(scope="module")
def scaled_report(recording: Path) -> Page:
    """The report of ``recording`` with the stall threshold scaled as the demo scales it."""
    import dataclasses

    from replay.report._render import render

    policy = replay.load_policy()
    scaled = dataclasses.replace(policy, stall_after_s=policy.stall_after_s / 267.123)
    return parse(render(load_recording(recording, policy=scaled), top=40))


def test_no_raw_value_reaches_the_reader(scaled_report: Page) -> None:
    shown = [t for t in scaled_report.text if RAW.search(t)]
    assert shown == []


@pytest.mark.parametrize(
    ("detail", "expected"),
    [
        ("pct_out_of_range", r"^percentage is not a number, so outside 0\.\.100$"),
        ("stalled", r"for \d+ s \(policy graph-beta stall_after_s=6\.74\)$"),
        ("ts_not_increasing", r"^timestamp \d+\.\d s before the previous observation"),
    ],
)
def test_violation_details_read_in_rounded_words(
    scaled_report: Page, detail: str, expected: str
) -> None:
    text = scaled_report.text
    rows = [text[i + 2] for i, cell in enumerate(text[:-2]) if cell == detail]
    assert rows and any(re.search(expected, row) for row in rows), rows[:3]


def test_a_compressed_recording_says_so_and_by_how_much_at_the_top() -> None:
    from replay.report._render import render

    frame = obs_frame({"a": [(0, "inProgress", 0.0, 202), (3, "completed", 100.0, 200)]})
    text = parse(render(load_recording(frame, name="demo"), compressed=267.4)).text
    start = text.index("Copy report: demo")
    banner = " ".join(text[start + 1 : start + 3])
    assert "time compressed 267×" in banner
    assert "not real copy figures" in banner


def _style(html: str) -> str:
    return html[html.index("<style>") : html.index("</style>")]


@pytest.mark.parametrize(
    "rule",
    [
        "h1,h2,h3,h4{break-after:avoid;page-break-after:avoid}",
        "figure,img,.strip,.key,.cards,.card,tr,thead{break-inside:avoid;page-break-inside:avoid}",
    ],
)
def test_print_keeps_headings_with_what_follows_and_figures_whole(
    report: tuple[str, Page], rule: str
) -> None:
    style = _style(report[0])
    print_rules = style[style.index("@media print{") :]
    assert rule in print_rules


def test_every_figure_keeps_its_heading_and_every_table_scrolls_in_its_own_box(
    report: tuple[str, Page],
) -> None:
    html = report[0]
    assert ".scroll{max-width:100%;overflow-x:auto}" in _style(html)
    assert html.count("<table>") == html.count('<div class="scroll"><table>') > 0
    for key in ("progress-curves", "failure-modes", "duration-distribution", "fleet-timeline"):
        section = html[html.index(f'<section id="{key}">') :]
        assert section.startswith(f'<section id="{key}">\n<figure>\n<h2>')


def test_each_job_strip_shows_the_timeline_s_runs_with_a_key(recording: Path) -> None:
    import matplotlib.pyplot as plt

    from replay.plots import status_timeline
    from replay.report._data import top_violations
    from replay.report._jobs import job_sections

    rec = load_recording(recording)
    sections = job_sections(rec, top_violations(rec.violations, 30))
    missing = rec.violations.loc[rec.violations["code"] == "missing_status", "job_id"]
    assert set(missing.astype(str)) & {s.job_id for s in sections}
    for section in sections:
        drawn = status_timeline(rec.obs, section.job_id)
        runs = drawn.segments
        plt.close(drawn.ax.figure)
        assert [s.status for s in section.segments] == list(runs["status"])
        assert "(none)" not in section.key
        assert set(section.key) == set(runs["status"])
        total = sum(s.width for s in section.segments)
        assert total == pytest.approx(100 if len(runs) else 0, abs=0.01)  # no status: no strip


def test_figures_count_the_same_jobs_as_the_headline(recording: Path) -> None:
    from replay import plots
    from replay.report._numbers import headline

    rec = load_recording(recording)
    jobs = len(rec.summary)
    numbers = {m.name: m.text for m in headline(rec)}
    assert numbers["jobs"] == f"{jobs:,}"
    durations = plots.duration_distribution(rec.summary)
    assert sum(durations.counts.values()) + durations.unknown == jobs
    (top,) = durations.ax.child_axes
    shown = [" ".join(t.get_text().split()[1:]) for t in top.get_xticklabels()]
    assert shown == [numbers[f"p{q} duration"] for q in (50, 90, 99)]
    speed = plots.throughput(rec.summary, rec.jobs)
    drawn = int((speed.values["rate"] > 0).sum())
    assert drawn + sum(speed.left_out.values()) == jobs
    curves = plots.progress_curves(rec.obs, summary=rec.summary)
    assert len(curves.job_ids) + curves.left_out == jobs
    modes = plots.failure_modes(rec.summary, rec.violations)
    assert sum(modes.counts["outcome"].values()) == jobs
    assert int(plots.fleet_timeline(rec.obs, rec.summary).table["started"].sum()) == jobs


def test_a_recording_folder_is_read_with_the_engine_s_columns_only(recording: Path) -> None:
    from replay.engine import ENGINE_COLUMNS

    rec = load_recording(recording)
    assert tuple(rec.obs.columns) == ENGINE_COLUMNS
    assert len(rec.obs) == len(replay.read(recording))
