"""The notebooks: committed without outputs, and run top to bottom on a simulated recording."""

from __future__ import annotations

from pathlib import Path

import nbformat
import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[2] / "notebooks").glob("*.ipynb"))


@pytest.mark.parametrize(("path",), [(p,) for p in NOTEBOOKS], ids=[p.stem for p in NOTEBOOKS])
def test_notebook_is_committed_with_outputs_cleared(path: Path) -> None:
    cells = nbformat.read(path, as_version=4).cells
    assert all(
        not c.get("outputs") and c.get("execution_count") is None
        for c in cells
        if c.cell_type == "code"
    )
    assert any("parameters" in c.metadata.get("tags", []) for c in cells)


def test_notebooks_run_on_a_simulated_recording(tmp_path: Path) -> None:
    papermill = pytest.importorskip("papermill")
    from replay.simulate import simulate

    simulate(60, seed=5).write(tmp_path / "rec")
    for path in NOTEBOOKS:
        out = tmp_path / path.name
        papermill.execute_notebook(
            str(path),
            str(out),
            parameters={"DATA": str(tmp_path / "rec")},
            kernel_name="python3",
            progress_bar=False,
            cwd=str(tmp_path),
        )
        outputs = [o for c in nbformat.read(out, as_version=4).cells for o in c.get("outputs", [])]
        assert not any(o.get("output_type") == "error" for o in outputs)
        if path.stem != "03_copy_performance":
            assert any("image/png" in o.get("data", {}) for o in outputs)
