"""Kept for `python -m edge.cli`: Windows tasks installed before the move run it (docs/agent.md).

The command itself is siaga/cli.py. This is the one import from edge up into siaga, made only
when an old task runs it (tests/test_layout.py allows exactly this one).
"""

from __future__ import annotations

import sys


def main(argv: list[str] | None = None) -> int:
    """Run `siaga` as siaga/cli.py does."""
    from siaga.cli import main as siaga_main
    return siaga_main(argv)


if __name__ == "__main__":
    sys.exit(main())
