"""Dask clients for the distributed engine: the user's scheduler, or a LocalCluster sized to the machine."""

from __future__ import annotations

import importlib.util
import logging
import os
import sys
from typing import TYPE_CHECKING

from replay.errors import UsageError

if TYPE_CHECKING:
    from distributed import Client

__all__ = ["CONNECT_TIMEOUT_S", "client_for"]

#: Seconds to wait for a given scheduler before saying it cannot be reached.
CONNECT_TIMEOUT_S = 5.0


def client_for(scheduler: str | None = None, *, timeout_s: float | None = None) -> Client:
    """Return a dask Client of ``scheduler``, or of a new LocalCluster sized to this machine.

    The client owns a cluster it started and closes it with itself (use it as a context
    manager). The dashboard link goes to stderr so the user can watch progress (stdout stays
    free for a command's results). An unreachable ``scheduler`` raises ``UsageError`` after
    ``timeout_s`` seconds (default ``CONNECT_TIMEOUT_S``).
    """
    from distributed import Client

    if scheduler:
        wait = CONNECT_TIMEOUT_S if timeout_s is None else timeout_s
        try:
            client = Client(scheduler, timeout=f"{wait}s")  # type: ignore[no-untyped-call]
        except (OSError, TimeoutError, ValueError, TypeError) as err:
            raise UsageError(
                f"cannot reach the dask scheduler at {scheduler!r} ({err}): check the address "
                f"(e.g. tcp://host:8786) and that the scheduler runs, or leave out --scheduler "
                f"to start a local cluster",
                key="scheduler",
            ) from None
    else:
        # The p2p shuffle logs each shuffle's start and end at WARNING in the scheduler, which
        # runs in this process for a local cluster: noise on a command's stderr.
        logging.getLogger("distributed.shuffle._scheduler_plugin").setLevel(logging.ERROR)
        client = _local_client()
    print(_dashboard_line(client), file=sys.stderr, flush=True)
    return client


def _local_client() -> Client:
    """A client owning a LocalCluster: a worker process per core, one thread each."""
    import dask
    from distributed import Client
    from distributed.system import MEMORY_LIMIT

    cores = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    workers = max(cores or 1, 1)
    # The p2p shuffle buffers up to 1 GiB per worker by default: keep it an eighth of a
    # worker's share of the machine's memory, so small machines do not run out.
    buffer = int(min(2**30, MEMORY_LIMIT / workers / 8))
    with dask.config.set({"distributed.p2p.comm.buffer": buffer}):
        return Client(n_workers=workers, threads_per_worker=1, dashboard_address=":0")  # type: ignore[no-untyped-call]


def _dashboard_line(client: Client) -> str:
    hint = "" if importlib.util.find_spec("bokeh") else " (pip install bokeh to view it)"
    return f"dask dashboard: {client.dashboard_link}{hint}"
