"""Checks that every implementation found exactly the violations ``replay.validate`` found."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

__all__ = ["Agreement", "agreement", "restricted"]

_KEYS = ["job_id", "seq", "code"]


@dataclass(frozen=True)
class Agreement:
    """How one implementation's (job_id, seq, code) set compares with the engine's."""

    impl: str
    n_found: int
    n_expected: int
    missing: dict[str, int] = field(default_factory=dict)
    extra: dict[str, int] = field(default_factory=dict)
    examples: tuple[str, ...] = ()

    @property
    def matches(self) -> bool:
        """Whether both sets are equal and nothing was found twice."""
        return not self.missing and not self.extra and self.n_found == self.n_expected


def agreement(impl: str, found: pa.Table, expected: pa.Table) -> Agreement:
    """Compare ``found`` with ``expected`` (both ``job_id, seq, code``), per code both ways."""
    missing = _anti_join(expected, found)
    extra = _anti_join(found, expected)
    examples = tuple(
        f"{kind} {row['job_id']} seq {row['seq']} {row['code']}"
        for kind, table in (("missing", missing), ("extra", extra))
        for row in table.slice(0, 3).to_pylist()
    )
    return Agreement(
        impl,
        n_found=found.num_rows,
        n_expected=expected.num_rows,
        missing=_per_code(missing),
        extra=_per_code(extra),
        examples=examples,
    )


def restricted(table: pa.Table, sample: Path) -> pa.Table:
    """Rows of ``table`` whose job is in the sample recording at ``sample``."""
    jobs = pq.read_table(sample / "observations", columns=["job_id"])["job_id"]
    return table.filter(pc.is_in(table["job_id"], value_set=pc.unique(jobs)))


def _anti_join(left: pa.Table, right: pa.Table) -> pa.Table:
    """Rows of ``left`` (distinct) that are not in ``right``."""
    distinct = right.select(_KEYS).group_by(_KEYS).aggregate([])
    flagged = distinct.append_column(
        "_in_right", pa.nulls(distinct.num_rows, pa.bool_()).fill_null(True)
    )
    joined = left.select(_KEYS).join(flagged, keys=_KEYS, join_type="left outer")
    return joined.filter(pc.is_null(joined["_in_right"])).select(_KEYS)


def _per_code(table: pa.Table) -> dict[str, int]:
    if table.num_rows == 0:
        return {}
    counts = table.group_by("code").aggregate([("code", "count")])
    return dict(zip(counts["code"].to_pylist(), counts["code_count"].to_pylist(), strict=True))
