"""The notebooks: committed without outputs, and run top to bottom with papermill on two recordings."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[2]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("*.ipynb"))
#: Figures (image/png outputs) each notebook draws at least.
FIGURES = {"01_explore": 3, "02_failure_modes": 1, "03_copy_performance": 4}


@pytest.fixture(scope="module")
def simulated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A freshly simulated recording (not the shipped sample), every scenario in it."""
    from replay.simulate import simulate

    path = tmp_path_factory.mktemp("simulated") / "rec"
    simulate(60, seed=5).write(path)
    return path


def test_every_notebook_is_listed_with_its_figures() -> None:
    assert [p.stem for p in NOTEBOOKS] == sorted(FIGURES)


@pytest.mark.parametrize(("path",), [(p,) for p in NOTEBOOKS], ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs_cleared_and_a_parameters_cell(path: Path) -> None:
    cells = nbformat.read(path, as_version=4).cells
    code = [c for c in cells if c.cell_type == "code"]
    assert all(not c.get("outputs") and c.get("execution_count") is None for c in code)
    parameters = [c for c in code if "parameters" in c.metadata.get("tags", [])]
    assert len(parameters) == 1
    assert parameters[0].source.startswith('DATA = "data/sample"')
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith("# ")
    assert sum(c.cell_type == "markdown" for c in cells) >= 3


@pytest.mark.parametrize(
    ("path", "data"),
    [(p, d) for p in NOTEBOOKS for d in ("sample", "simulated")],
    ids=[f"{p.stem}-{d}" for p in NOTEBOOKS for d in ("sample", "simulated")],
)
def test_notebook_runs_top_to_bottom_and_draws_its_figures(
    path: Path, data: str, simulated: Path, tmp_path: Path
) -> None:
    papermill = pytest.importorskip("papermill")
    out = tmp_path / path.name
    # The sample by its default relative path, run from elsewhere: it resolves against the repo.
    parameters = {} if data == "sample" else {"DATA": str(simulated)}
    papermill.execute_notebook(
        str(path),
        str(out),
        parameters=parameters,
        kernel_name="python3",
        progress_bar=False,
        cwd=str(tmp_path),
    )
    outputs = [o for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    figures = [o for o in outputs if "image/png" in o.get("data", {})]
    assert len(figures) >= FIGURES[path.stem]
    shown = "".join(o.get("data", {}).get("text/plain", "") for o in outputs)
    expected = ROOT / "data" / "sample" if data == "sample" else simulated
    assert f"Recording({str(expected.resolve())!r}:" in shown
