"""The public API: every name in ``replay.__all__`` resolves, and ``import replay`` stays light."""

from __future__ import annotations

import subprocess
import sys

import pytest

import replay


@pytest.mark.parametrize("name", replay.__all__)
def test_every_exported_name_resolves(name: str) -> None:
    assert getattr(replay, name) is not None


def test_an_unknown_name_is_an_attribute_error() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        _ = replay.nope  # type: ignore[attr-defined]


HEAVY = ("httpx", "aiohttp", "pandas", "pyarrow", "numpy", "matplotlib")


def _printed(code: str) -> list[str]:
    """The words ``code`` prints when run by a fresh interpreter."""
    return subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.split()


def _loaded_after(statement: str) -> list[str]:
    """The HEAVY modules a fresh interpreter has loaded after running ``statement``."""
    return _printed(f"import sys; {statement}; print(*(m for m in {HEAVY!r} if m in sys.modules))")


@pytest.mark.slow
@pytest.mark.parametrize(
    "statement",
    [
        "import replay",
        "import replay.pytest_plugin",  # loaded by every pytest run once replay is installed
        "import replay; replay.ReplayError, replay.UsageError, replay.__version__",
    ],
)
def test_importing_replay_loads_no_heavy_library(statement: str) -> None:
    assert _loaded_after(statement) == []


@pytest.mark.slow
def test_the_first_use_of_a_name_imports_its_module() -> None:
    assert sorted(_loaded_after("import replay; replay.read")) == ["numpy", "pandas", "pyarrow"]


@pytest.mark.slow
def test_submodules_are_attributes_without_an_import() -> None:
    code = "import replay; print(replay.store.read is replay.read, replay.eta.__name__)"
    assert _printed(code) == ["True", "replay.eta"]


def test_no_exported_function_shares_its_name_with_a_module() -> None:
    import importlib.util
    import inspect

    functions = [n for n in replay.__all__ if inspect.isfunction(getattr(replay, n))]
    assert {"validate", "transitions", "summarize"} <= set(functions)
    clashes = [n for n in functions if importlib.util.find_spec(f"replay.{n}") is not None]
    assert clashes == []


@pytest.mark.slow
@pytest.mark.parametrize("name", ["validate", "transitions"])
def test_engine_functions_stay_functions_after_the_engine_loads(name: str) -> None:
    code = (
        "import importlib, replay; importlib.import_module('replay.engine'); "
        f"print(callable(replay.{name}), replay.{name}.__module__)"
    )
    assert _printed(code) == [
        "True",
        f"replay.engine._{name if name != 'validate' else 'violations'}",
    ]


def test_errors_are_catchable_from_the_top_level_without_loading_the_engine() -> None:
    from replay.errors import DatasetError

    assert replay.DatasetError is DatasetError
    assert issubclass(replay.ReplayWarning, UserWarning)


def test_submodules_stay_importable_beside_their_functions() -> None:
    import replay.simulate as simulate_module

    assert callable(simulate_module.simulate)
    assert replay.simulate_job is simulate_module.simulate_job
