"""Sharding a fleet by job: a stable hash that splits job ids into N disjoint shards."""

from __future__ import annotations

import hashlib

from replay.errors import UsageError

__all__ = ["parse_shard", "shard_of"]

_FORMAT = "K/N with whole numbers 1 <= K <= N, e.g. --shard 1/4 ... --shard 4/4"


def shard_of(job_id: str, n: int) -> int:
    """Return the shard (1..n) that owns ``job_id``: the same on every machine, process and run.

    The hash is BLAKE2b of the UTF-8 job id (never Python's ``hash()``, which is salted per
    process), so N recorders started with ``--shard 1/N`` ... ``--shard N/N`` split one fleet
    into disjoint parts that together cover it.
    """
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise UsageError(f"shard count {n!r} is not a whole number >= 1: give N of {_FORMAT}")
    digest = hashlib.blake2b(job_id.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "big") % n + 1


def parse_shard(text: str) -> tuple[int, int]:
    """Return ``(K, N)`` from ``"K/N"`` (1-based K, as ``shard_of`` numbers shards)."""
    head, sep, tail = str(text).strip().partition("/")
    try:
        k, n = int(head), int(tail)
    except ValueError:
        k, n = 0, 0
    if not sep or n < 1 or not 1 <= k <= n:
        raise UsageError(f"--shard {text!r} is not a shard: give {_FORMAT}", key="shard")
    return k, n
