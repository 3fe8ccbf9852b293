"""The `replay` command line: the parser and dispatch to one module per subcommand."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
import warnings
from collections.abc import Callable, Sequence
from typing import NoReturn

from replay.errors import ReplayError

__all__ = ["COMMANDS", "ArgumentParser", "main"]

#: Subcommand modules under ``replay.cli``, in the order ``--help`` lists them. Each module
#: defines ``register(subparsers)`` which adds its parser with ``set_defaults(run=...)``.
COMMANDS: tuple[str, ...] = (
    "simulate",
    "serve",
    "record",
    "import",
    "validate",
    "summary",
    "scan",
    "report",
    "demo",
    "check-poller",
)


class ArgumentParser(argparse.ArgumentParser):
    """argparse that reports a bad argument as one line on stderr and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"{self.prog}: error: {message} (see '{self.prog} --help')\n")


def build_parser() -> ArgumentParser:
    """Return the parser of the whole command line."""
    parser = ArgumentParser(
        prog="replay",
        description="Record, replay and analyse Microsoft Graph AsyncJobStatus monitors.",
    )
    from replay import __version__

    parser.add_argument("--version", action="version", version=f"replay {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=ArgumentParser)
    for name in COMMANDS:
        importlib.import_module(f"replay.cli.{name.replace('-', '_')}_cmd").register(sub)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; return the exit code (2 for user errors, never a traceback)."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command is None:
        parser.print_help(sys.stderr)
        return 2
    formatwarning = warnings.formatwarning
    warnings.formatwarning = _one_line(args.command)
    try:
        code: int = args.run(args)
        sys.stdout.flush()  # an output that cannot take it (a full disk) fails here, not at exit
    except ReplayError as err:
        print(f"replay {args.command}: error: {err}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as err:  # writing an output: a full disk, a read-only folder, /dev/full
        where = f": {err.filename}" if err.filename else " (standard output)"
        print(
            f"replay {args.command}: error: {err.strerror or err}{where}; check the free space "
            "and permissions of where the output goes",
            file=sys.stderr,
        )
        _drop_unwritable_stdout()
        return 2
    except KeyboardInterrupt:
        print(f"replay {args.command}: interrupted", file=sys.stderr)
        return 130
    finally:
        warnings.formatwarning = formatwarning
    return code


def _one_line(command: str) -> Callable[..., str]:
    """A ``warnings.formatwarning`` that prints ``replay COMMAND: warning: ...`` on one line."""

    def format_(message: Warning | str, *args: object, **kwargs: object) -> str:
        return f"replay {command}: warning: {message}\n"

    return format_


def _drop_unwritable_stdout() -> None:
    """When stdout cannot take what it holds, point it at /dev/null, so that the interpreter's
    final flush does not fail again with a traceback."""
    try:
        sys.stdout.flush()
    except OSError:
        pass
    else:
        return
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        os.close(devnull)
        sys.stdout.flush()
    except (OSError, ValueError):  # no file descriptor (a test's capture): nothing to protect
        pass
