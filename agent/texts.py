"""The banner's words: one catalogue with the edge's command texts, in ``protocol.texts``.

Kept so the agent's modules import ``agent.texts`` as before; ``protocol.texts`` imports nothing
of the Pi, so the meeting PC's install needs nothing more.
"""

from protocol.texts import (BANNER_TEXTS as TEXTS, COPY_KINDS, banner_view, minutes_text,
                            not_off_view, runtime_line, text)

__all__ = ["TEXTS", "COPY_KINDS", "banner_view", "minutes_text", "not_off_view", "runtime_line",
           "text"]
