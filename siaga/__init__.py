"""The `siaga` command (siaga/cli.py) and its tools: check, demo, and the private servers.

The one package that may import every other (tests/test_layout.py); it imports them lazily, so
that `siaga agent` on the PC loads nothing of the Pi and `siaga report` loads no Flask.
"""
