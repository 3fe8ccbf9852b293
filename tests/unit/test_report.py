"""The HTML report: every section, no external reference, every image decodes."""

from __future__ import annotations

import argparse
import base64
import re
from html.parser import HTMLParser
from pathlib import Path

from factories import obs_frame

from replay.report import render_report

JOBS = {
    "a": [
        (0, "notStarted", 0.0, 202),
        (10, "inProgress", 40.0, 202),
        (20, "completed", 100.0, 200),
    ],
    "b": [(0, "inProgress", 10.0, 202), (5, "weird", None, 200)],
}


def test_report_has_every_section_and_only_embedded_images() -> None:
    html = render_report(obs_frame(JOBS), name="two jobs")
    HTMLParser().feed(html)
    for section in ("headline", "progress-curves", "failure-modes", "violations", "provenance"):
        assert f'id="{section}"' in html
    assert not re.search(r"(?:src|href)=\"(?:https?:)?//", html)
    images = re.findall(r'src="data:image/png;base64,([^"]+)"', html)
    assert len(images) == 2
    assert all(base64.b64decode(i).startswith(b"\x89PNG") for i in images)
    assert "unknown_status" in html


def test_report_command_writes_the_report_of_a_simulated_recording(tmp_path: Path) -> None:
    from replay.cli.report_cmd import run
    from replay.simulate import simulate

    simulate(40, seed=3).write(tmp_path / "rec")
    out = tmp_path / "report.html"
    args = argparse.Namespace(
        dir=str(tmp_path / "rec"), out=out, engine="pandas", skip_bad_files=False, scheduler=None
    )
    assert run(args) == 0
    assert "<td>40</td>" in out.read_text(encoding="utf-8")
