"""Changes spanning several files of a recording (renames, then deletions), finished or undone by
the next open when the process making them died half-way."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from replay.errors import DatasetError
from replay.store import files as _files
from replay.store.files import JOBS_DIR, OBSERVATIONS_DIR, STAGING_DIR, Footer, Kind, Staged

__all__ = [
    "LOCK_NAME",
    "Swap",
    "begin",
    "drop_replaced",
    "end",
    "exclusive",
    "finish",
    "finish_pending",
    "publish",
    "recovered",
    "remove_every_replaced",
    "remove_replaced",
    "repaired",
]

#: The lock every multi-file change holds (compactions, imports), released by the OS when the
#: process holding it dies.
LOCK_NAME = ".replay-compact.lock"
_INTENT_SUFFIX = ".intent.json"


@dataclass(frozen=True)
class Swap:
    """One change of the recording: temporary files to rename into place, then files to delete
    (which the renamed files contain)."""

    moves: tuple[Staged, ...]
    deletes: tuple[Path, ...] = ()


@contextlib.contextmanager
def exclusive(base: Path, *, wait: bool) -> Iterator[bool]:
    """Hold the recording's swap lock while the block runs and yield True; without ``wait``,
    yield False (holding nothing) when another process or open file holds it."""
    import fcntl

    fd = os.open(base / LOCK_NAME, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX if wait else fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            yield False
            return
        yield True
    finally:
        os.close(fd)


def publish(base: Path, swap: Swap) -> None:
    """Make ``swap`` happen so that a crash at any instant leaves it to be finished by the next
    open (call with :func:`exclusive` held): :func:`begin`, :func:`finish`, :func:`end`."""
    intent = begin(base, swap)
    finish(swap)
    end(intent)


def begin(base: Path, swap: Swap) -> Path:
    """Write and fsync ``swap``'s intent (every rename and deletion, relative to ``base``); from
    then on the change is committed. Return the intent's path.

    A crash before this leaves only temporary files, which no reader lists. The intent is written
    in place, not renamed: a torn intent (the process died while writing it) is not JSON, and
    means the change never started.
    """
    folder = base / STAGING_DIR
    _files.make_dirs(folder)
    document = {
        "moves": [[_relative(base, m.temporary), _relative(base, m.final)] for m in swap.moves],
        "deletes": [_relative(base, p) for p in swap.deletes],
    }
    path = folder / f"swap-{_files.unique_name().removesuffix('.parquet')}{_INTENT_SUFFIX}"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
    try:
        os.write(fd, json.dumps(document).encode())
        os.fsync(fd)
    finally:
        os.close(fd)
    _files.fsync_dir(folder)
    return path


def finish(swap: Swap) -> None:
    """Do every rename still to do, then the deletions; undo the renames instead when one of them
    can no longer be done (its temporary file is gone), deleting nothing."""
    if not all(m.temporary.exists() or m.final.exists() for m in swap.moves):
        _undo(swap)
        return
    for move in swap.moves:
        if move.temporary.exists():
            _files.make_dirs(move.final.parent)
            os.replace(move.temporary, move.final)
    for folder in {m.final.parent for m in swap.moves}:
        _files.fsync_dir(folder)
    for path in swap.deletes:
        path.unlink(missing_ok=True)
    for folder in {p.parent for p in swap.deletes}:
        _files.fsync_dir(folder)


def end(intent: Path) -> None:
    """Delete the intent of a finished swap."""
    intent.unlink()
    _files.fsync_dir(intent.parent)


def recovered(root: str | Path) -> Path:
    """``root`` checked as a recording, after finishing what a writer that died left half-done
    (best effort: a recording on read-only media, or busy, is only read)."""
    base = _files.recording_root(root)
    if _intents(base):
        with contextlib.suppress(OSError), exclusive(base, wait=False) as held:
            if held:
                finish_pending(base)
    return base


def repaired(root: Path) -> None:
    """Before writing to ``root``: finish (or undo) what writers that died left half-done, and
    delete compacted sources still visible; skipped while a compaction or import runs (it does
    this itself)."""
    data = [root / OBSERVATIONS_DIR, root / JOBS_DIR]
    if not _intents(root) and not any(folder.is_dir() for folder in data):
        return
    with exclusive(root, wait=False) as held:
        if held:
            finish_pending(root)
            remove_every_replaced(root)


def finish_pending(base: Path) -> int:
    """Finish (or undo) every change a dead process left half-done; return how many (call with
    :func:`exclusive` held)."""
    intents = _intents(base)
    for path in intents:
        swap = _read_intent(base, path)
        if swap is not None:
            finish(swap)
        path.unlink(missing_ok=True)
    if intents:
        _files.fsync_dir(base / STAGING_DIR)
    return len(intents)


def remove_replaced(folder: Path, kind: Kind) -> int:
    """Delete the files of ``folder`` that a visible compaction output already holds (left by a
    compaction that died between its rename and its deletions); return how many (call with
    :func:`exclusive` held)."""
    return _unlink_replaced(_files.folder_footers(folder, kind, "raise"))


def drop_replaced(base: Path, footers: Sequence[Footer]) -> None:
    """Delete, best effort, the files among ``footers`` (a reader's listing) that a visible
    compaction output already holds, unless a compaction is running (it deletes them itself)."""
    if len(_files.live_footers(footers)) == len(footers):
        return
    with contextlib.suppress(OSError), exclusive(base, wait=False) as held:
        if held:
            _unlink_replaced(footers)


def _unlink_replaced(footers: Sequence[Footer]) -> int:
    live = {f.path for f in _files.live_footers(footers)}
    replaced = [f.path for f in footers if f.path not in live]
    for path in replaced:
        path.unlink(missing_ok=True)
    for folder in {p.parent for p in replaced}:
        _files.fsync_dir(folder)
    return len(replaced)


def remove_every_replaced(base: Path) -> int:
    """:func:`remove_replaced` over every folder of the recording, skipping folders holding a bad
    file (compaction and reads report those)."""
    folders: list[tuple[Path, Kind]] = [
        (folder, "observations") for _, folder in _files.partition_dirs(base, lambda e: None)
    ]
    folders.append((base / JOBS_DIR, "jobs"))
    removed = 0
    for folder, kind in folders:
        with contextlib.suppress(DatasetError):
            removed += remove_replaced(folder, kind)
    return removed


def _undo(swap: Swap) -> None:
    for move in swap.moves:
        move.temporary.unlink(missing_ok=True)
        move.final.unlink(missing_ok=True)
    for folder in {m.final.parent for m in swap.moves}:
        with contextlib.suppress(FileNotFoundError):
            _files.fsync_dir(folder)


def _intents(base: Path) -> list[Path]:
    """The intents of changes not finished yet, oldest first."""
    try:
        entries = list(os.scandir(base / STAGING_DIR))
    except FileNotFoundError:
        return []
    return sorted(Path(e.path) for e in entries if e.name.endswith(_INTENT_SUFFIX))


def _read_intent(base: Path, path: Path) -> Swap | None:
    """The change an intent describes; None for a torn intent (the change never started)."""
    try:
        document = json.loads(path.read_bytes())
        moves = tuple(Staged(base / t, base / f) for t, f in document["moves"])
        deletes = tuple(base / p for p in document["deletes"])
    except (ValueError, KeyError, TypeError):
        return None
    return Swap(moves, deletes)


def _relative(base: Path, path: Path) -> str:
    return path.relative_to(base).as_posix()
