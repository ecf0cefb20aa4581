"""The banner's words: one catalogue with the edge's command texts, in ``edge.texts``.

Kept so the agent's modules import ``edge.agent.texts`` as before; ``edge.texts`` imports nothing
of the Pi, so the meeting PC's install needs nothing more.
"""

from edge.texts import BANNER_TEXTS as TEXTS
from edge.texts import COPY_KINDS, banner_view, minutes_text, runtime_line, text

__all__ = ["TEXTS", "COPY_KINDS", "banner_view", "minutes_text", "runtime_line", "text"]
