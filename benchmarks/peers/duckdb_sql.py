"""Peer (d2): the checks as one DuckDB SQL query, ``LAG() OVER (PARTITION BY job_id ORDER BY seq)``."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from benchmarks.peers.rules import CODES, Rules

__all__ = ["native", "query", "validate"]

_TEMPLATE = """
WITH base AS (
    SELECT job_id, seq, ts, status, percentage_complete AS pct, http_status AS http,
        status IS NOT NULL AS observed,
        (percentage_complete IS NOT NULL AND NOT isnan(percentage_complete)
            AND percentage_complete BETWEEN 0 AND 100) AS valid,
        (status IS NOT NULL AND status IN ({terminal})) AS terminal,
        (status IS NULL AND (http_status IS NULL OR http_status BETWEEN 200 AND 299)) AS missing,
        CASE WHEN status IS NULL THEN NULL
             WHEN percentage_complete IS NULL THEN -1.0e300
             WHEN isnan(percentage_complete) THEN -2.0e300
             ELSE percentage_complete END AS own_key
    FROM obs
),
w1 AS (
    SELECT *,
        last_value(status IGNORE NULLS) OVER before AS prev,
        last_value(own_key IGNORE NULLS) OVER before AS prev_key,
        last_value(CASE WHEN valid THEN pct END IGNORE NULLS) OVER before AS prev_valid,
        coalesce(sum(terminal::INT) OVER before, 0) > 0 AS terminal_before,
        LAG(ts) OVER job AS prev_ts,
        coalesce(LAG(missing) OVER job, FALSE) AS prev_missing,
        bool_or(terminal OR coalesce(http = 303, FALSE)) OVER whole AS ended,
        seq = max(seq) OVER whole AS last
    FROM base
    WINDOW job AS (PARTITION BY job_id ORDER BY seq),
        before AS (PARTITION BY job_id ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING),
        whole AS (PARTITION BY job_id)
),
w2 AS (
    SELECT *,
        observed AND prev IS NOT NULL AND status <> prev AS changed,
        observed AND (prev IS NULL OR status <> prev OR own_key <> prev_key) AS new_state,
        coalesce(status, prev) AS carried
    FROM w1
),
w3 AS (
    SELECT *,
        sum(new_state::INT) OVER job AS state_no,
        last_value(CASE WHEN new_state THEN ts END IGNORE NULLS) OVER job AS state_ts
    FROM w2
    WINDOW job AS (PARTITION BY job_id ORDER BY seq ROWS UNBOUNDED PRECEDING)
),
w4 AS (
    SELECT *,
        carried IS NOT NULL AND carried NOT IN ({terminal})
            AND epoch_us(ts) - epoch_us(state_ts) > {stall_us} AS over
    FROM w3
),
flags AS (
    SELECT job_id, seq, ts,
        observed AND (prev IS NULL OR changed) AND status NOT IN ({statuses}) AS unknown_status,
        missing AND NOT prev_missing AS missing_status,
        changed AND NOT terminal_before AND (prev, status) IN ({forbidden})
            AS illegal_transition,
        changed AND terminal_before AS after_terminal,
        pct IS NOT NULL AND NOT valid AS pct_out_of_range,
        prev_ts IS NOT NULL AND ts <= prev_ts AS ts_not_increasing,
        valid AND prev_valid IS NOT NULL AND pct < prev_valid AS pct_regression,
        status = 'completed' AND valid AND pct <> 100 AS completed_not_100,
        over AND sum(over::INT) OVER (PARTITION BY job_id, state_no ORDER BY seq
            ROWS UNBOUNDED PRECEDING) = 1 AS stalled,
        last AND NOT ended AS no_terminal
    FROM w4
)
SELECT job_id, seq, ts, code FROM (
    SELECT job_id, seq, ts,
        unnest([{code_cases}]) AS code
    FROM flags
    WHERE {any_flag}
)
WHERE code IS NOT NULL
ORDER BY job_id, seq, array_position([{code_list}], code)
"""


def native(table: pa.Table) -> duckdb.DuckDBPyConnection:
    """Return an in-memory DuckDB database holding the observations as table ``obs``."""
    con = duckdb.connect(":memory:")
    con.register("obs_arrow", table)
    con.execute("CREATE TABLE obs AS SELECT * FROM obs_arrow")
    con.unregister("obs_arrow")
    return con


def query(rules: Rules) -> str:
    """Return the SQL of the checks for ``rules``."""
    pairs = ", ".join(f"({_lit(a)}, {_lit(b)})" for a, b in rules.forbidden) or "(NULL, NULL)"
    return _TEMPLATE.format(
        terminal=", ".join(_lit(s) for s in sorted(rules.terminal)),
        statuses=", ".join(_lit(s) for s in rules.statuses),
        forbidden=pairs,
        stall_us=rules.stall_after_us,
        code_cases=", ".join(f"CASE WHEN {c} THEN '{c}' END" for c in CODES),
        code_list=", ".join(f"'{c}'" for c in CODES),
        any_flag=" OR ".join(CODES),
    )


def validate(con: duckdb.DuckDBPyConnection, rules: Rules) -> pa.Table:
    """Return ``job_id, seq, ts, code`` of every violation, ordered by job, seq and code."""
    relation = con.sql(query(rules))
    # duckdb 1.x names it fetch_arrow_table (deprecated in 2.x in favour of to_arrow_table).
    fetch = getattr(relation, "to_arrow_table", None) or relation.fetch_arrow_table
    result: pa.Table = fetch()
    return result


def _lit(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"
