"""Which banner a command shows: shared by the agent and its banner-only process (Windows)."""

from __future__ import annotations

from typing import Any

from agent.texts import banner_view
from protocol.config import AgentSection
from protocol.messages import PcCommand, PcCommandKind

RESTORED_CLOSE_S = 20.0    # the "power restored" banner closes itself after this long
TEST_CLOSE_S = 60.0        # and a test banner after this long


class NewestOutage:
    """The edge's time of the newest outage command whose banner was shown. A cancel older than
    it is an earlier outage's, resent after this one began (the PC had missed it): it still
    stops a pending shutdown, but its "power restored" banner would tell the host the power is
    back in the middle of this cut, over this cut's notice."""

    def __init__(self) -> None:
        self.ts = float("-inf")

    def shows(self, cmd: PcCommand) -> bool:
        """Whether ``cmd``'s banner is to be shown (noting an outage command's time)."""
        if cmd.kind == PcCommandKind.CANCEL:
            return cmd.ts >= self.ts
        if cmd.kind != PcCommandKind.TEST:
            self.ts = max(self.ts, cmd.ts)
        return True


def shutdown_grace_s(section: AgentSection, cmd: PcCommand) -> float:
    """How long a shutdown waits: the shorter of this PC's ``shutdown_grace_s`` and the edge's."""
    return max(0.0, min(float(section.shutdown_grace_s), float(cmd.grace_s)))


def command_view(cmd: PcCommand, language: str, section: AgentSection,
                 restored_close_s: float = RESTORED_CLOSE_S) -> dict[str, Any]:
    """The banner for ``cmd``: a countdown for a shutdown, self-closing for cancel and test."""
    if cmd.kind == PcCommandKind.SHUTDOWN:
        return banner_view(cmd, language, countdown_s=shutdown_grace_s(section, cmd))
    if cmd.kind == PcCommandKind.CANCEL:
        return banner_view(cmd, language, close_after_s=restored_close_s)
    if cmd.kind == PcCommandKind.TEST:
        return banner_view(cmd, language, close_after_s=TEST_CLOSE_S)
    return banner_view(cmd, language)
