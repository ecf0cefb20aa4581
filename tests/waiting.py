"""Waiting in tests for what a user would see, with a clear failure when it never comes."""

from __future__ import annotations

import time
from typing import Any, Callable


def wait_until(check: Callable[[], Any], timeout: float = 5.0, step: float = 0.05,
               what: str = "condition", context: Callable[[], str] = lambda: "") -> Any:
    """Poll ``check`` until it returns something true and return that; fail after ``timeout``
    with ``what`` and whatever ``context()`` says (the last state, a log tail)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = check()
        if value:
            return value
        time.sleep(step)
    extra = context()
    raise AssertionError(f"{what} not met within {timeout} s" + (f"; {extra}" if extra else ""))
