"""Who writes a recording: one lock file per writing process, and the shards that may share one."""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import secrets
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from replay.errors import RecorderError
from replay.store import files as _files
from replay.store.files import WRITERS_DIR

__all__ = ["Claim", "Shard", "claim", "shards_overlap"]

#: ``(K, N)``: shard K (1-based) of N, as ``replay.recorder.shard.shard_of`` numbers them.
Shard = tuple[int, int]
_SUFFIX = ".json"
_CLAIMING = ".claiming"


@dataclass(frozen=True)
class Owner:
    """What a lock file says about the process holding it."""

    pid: int
    host: str
    writer: str
    since: str
    shard: Shard | None

    def describe(self) -> str:
        """``replay record (pid 4242 on host-1 since 2026-...Z, shard 1/2)``."""
        part = "every job" if self.shard is None else f"shard {self.shard[0]}/{self.shard[1]}"
        return f"replay {self.writer} (pid {self.pid} on {self.host} since {self.since}, {part})"


@dataclass(frozen=True, eq=False)
class Claim:
    """A writer's hold on a recording: its lock file, locked while ``handle`` is open (the OS
    releases the lock when the process dies, so the next writer takes over a stale file)."""

    path: Path
    handle: IO[bytes]

    def release(self) -> None:
        """Give the recording up: delete the lock file, then unlock it."""
        if not self.handle.closed:
            self.path.unlink(missing_ok=True)
            self.handle.close()


def shards_overlap(a: Shard | None, b: Shard | None) -> bool:
    """Whether some job id falls in both shards (None: every job).

    ``shard_of(id, N) == K`` means ``h % N == K - 1`` for the id's hash ``h``; ``h % N1 == K1 - 1``
    and ``h % N2 == K2 - 1`` hold together for some ``h`` exactly when ``K1 - K2`` is a multiple of
    ``gcd(N1, N2)``: 1/2 and 2/2 are disjoint, 1/2 and 3/4 overlap.
    """
    if a is None or b is None:
        return True
    return (a[0] - b[0]) % math.gcd(a[1], b[1]) == 0


def claim(root: Path, shard: Shard | None, writer: str) -> Claim:
    """Take ``root`` for this process writing ``shard`` (None: every job); raise RecorderError
    naming the live writer whose shard overlaps. Lock files of dead writers are taken over."""
    folder = root / WRITERS_DIR
    _files.make_dirs(folder)
    with _held(folder / _CLAIMING):
        for path, owner in _live_owners(folder):
            if shards_overlap(owner.shard, shard):
                raise RecorderError(_busy(root, path, owner), path=str(root))
        return _new_claim(folder, Owner(os.getpid(), _host(), writer, _now(), shard))


def _busy(root: Path, path: Path, owner: Owner) -> str:
    remote = "" if owner.host == _host() else f"; if it is no longer running, delete {path}"
    return (
        f"{root} is being written by {owner.describe()}: wait for it to end or stop it; to record "
        f"one folder from several processes give each a disjoint --shard K/N (e.g. 1/2 and 2/2)"
        f"{remote}"
    )


@contextlib.contextmanager
def _held(path: Path) -> Iterator[None]:
    """Hold an exclusive lock on ``path`` (created if missing) while the block runs."""
    import fcntl

    with path.open("a+b") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def _live_owners(folder: Path) -> Iterator[tuple[Path, Owner]]:
    """The lock files of live writers with what they say; stale ones (writer dead) are deleted."""
    for path in sorted(folder.glob(f"*{_SUFFIX}")):
        owner = _owner(path)
        if owner is None:
            path.unlink(missing_ok=True)
        else:
            yield path, owner


def _owner(path: Path) -> Owner | None:
    """What ``path`` says when its writer may be alive, None when it is stale (or vanished).

    On this host a writer is alive while it holds the file's lock (the OS releases it when the
    process dies, whatever its pid became); where the file system has no locks, while its pid
    runs. A writer on another host is taken as alive: some shared file systems do not pass
    locks between machines, and the refusal names the file to delete once it is known dead.
    """
    import fcntl

    try:
        handle = path.open("rb")
    except FileNotFoundError:
        return None
    with handle:
        owner = _parsed(handle.read())
        if owner.host != _host():
            return owner
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            return owner
        except OSError:  # a file system without locks: trust the pid
            return owner if _pid_alive(owner.pid) else None
        return None  # nobody holds it: its writer died


def _parsed(raw: bytes) -> Owner:
    try:
        data: dict[str, Any] = json.loads(raw)
        shard = data.get("shard")
        return Owner(
            int(data["pid"]),
            str(data["host"]),
            str(data.get("writer", "record")),
            str(data.get("since", "?")),
            None if shard is None else (int(shard[0]), int(shard[1])),
        )
    except (ValueError, KeyError, TypeError, IndexError):
        # Torn (its writer died while writing it) or foreign: this host's lock decides.
        return Owner(0, _host(), "record", "?", None)


def _new_claim(folder: Path, owner: Owner) -> Claim:
    import fcntl

    path = folder / f"{owner.writer}-{owner.pid}-{secrets.token_hex(4)}{_SUFFIX}"
    handle = path.open("x+b")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        document = {
            "pid": owner.pid,
            "host": owner.host,
            "writer": owner.writer,
            "since": owner.since,
            "shard": None if owner.shard is None else list(owner.shard),
        }
        handle.write(json.dumps(document).encode())
        handle.flush()
        os.fsync(handle.fileno())
    except BaseException:
        path.unlink(missing_ok=True)
        handle.close()
        raise
    return Claim(path, handle)


def _pid_alive(pid: int) -> bool:
    if pid <= 0:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _host() -> str:
    return socket.gethostname()


def _now() -> str:
    return dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
