"""``python -m replay``: the replay command."""

from replay.cli import main

raise SystemExit(main())
