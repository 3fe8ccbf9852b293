"""Comparison implementations of ``replay.validate``: same checks, same flagged rows."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pandas as pd
import pyarrow as pa

from benchmarks.peers import duckdb_sql, pandas_shift, polars_over, rowloop
from benchmarks.peers.rules import CODES, COLUMNS, Rules, rules_of

__all__ = ["CODES", "COLUMNS", "PEERS", "Peer", "Rules", "found", "rules_of"]


@dataclass(frozen=True)
class Peer:
    """One implementation: ``native`` builds its input (untimed), ``validate`` is what is timed."""

    name: str
    label: str
    native: Callable[[pa.Table], Any]
    validate: Callable[[Any, Rules], Any]


PEERS: dict[str, Peer] = {
    peer.name: peer
    for peer in (
        Peer("rowloop", "per-row Python loop (itertuples)", rowloop.native, rowloop.validate),
        Peer(
            "rowlists",
            "per-row Python loop (column lists)",
            rowloop.native,
            rowloop.validate_lists,
        ),
        Peer("pandas", "pandas groupby/shift", pandas_shift.native, pandas_shift.validate),
        Peer("polars", "Polars .over()", polars_over.native, polars_over.validate),
        Peer("duckdb", "DuckDB SQL LAG() OVER", duckdb_sql.native, duckdb_sql.validate),
    )
}


def found(result: Any) -> pa.Table:
    """Return ``(job_id, seq, code)`` of any implementation's violations, as strings and int64."""
    if isinstance(result, pd.DataFrame):
        table = pa.table(
            {
                "job_id": pa.array(
                    result["job_id"].astype(str).to_numpy(dtype=object), pa.string()
                ),
                "seq": pa.array(result["seq"].to_numpy(dtype="int64")),
                "code": pa.array(result["code"].astype(str).to_numpy(dtype=object), pa.string()),
            }
        )
    elif isinstance(result, pa.Table):
        table = result.select(["job_id", "seq", "code"])
    else:  # a Polars frame
        table = result.select(["job_id", "seq", "code"]).to_arrow()
    return pa.table(
        {
            "job_id": table["job_id"].cast(pa.string()),
            "seq": table["seq"].cast(pa.int64()),
            "code": table["code"].cast(pa.string()),
        }
    )
