"""Which banner a command shows: shared by the agent and its banner-only process (Windows)."""

from __future__ import annotations

from typing import Any

from agent.texts import banner_view
from protocol.config import AgentSection
from protocol.messages import PcCommand

RESTORED_CLOSE_S = 20.0    # the "power restored" banner closes itself after this long
TEST_CLOSE_S = 60.0        # and a test banner after this long


def shutdown_grace_s(section: AgentSection, cmd: PcCommand) -> float:
    """How long a shutdown waits: the shorter of this PC's ``shutdown_grace_s`` and the edge's."""
    return max(0.0, min(float(section.shutdown_grace_s), float(cmd.grace_s)))


def command_view(cmd: PcCommand, language: str, section: AgentSection,
                 restored_close_s: float = RESTORED_CLOSE_S) -> dict[str, Any]:
    """The banner for ``cmd``: a countdown for a shutdown, self-closing for cancel and test."""
    if cmd.kind == "shutdown":
        return banner_view(cmd, language, countdown_s=shutdown_grace_s(section, cmd))
    if cmd.kind == "cancel":
        return banner_view(cmd, language, close_after_s=restored_close_s)
    if cmd.kind == "test":
        return banner_view(cmd, language, close_after_s=TEST_CLOSE_S)
    return banner_view(cmd, language)
