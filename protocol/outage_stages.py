"""The stages of a power cut, in one table: like upsmon's notify table, each row carries its id,
the room state it puts the room in, the PC command it sends, the journal event that records it,
the field of the state's ``outage`` that holds its time, and the LED look it shows.

The Pi's core (edge/stages.py, edge/room_view.py), the dashboard's page, its alerts and the
docs' legend read their stages from here, so no one rebuilds a stage from a string
(a kind plus "_sent"). Part of the protocol the three programs share, like messages.py.
"""

from __future__ import annotations

from dataclasses import dataclass

from protocol.looks import PC_OFF
from protocol.messages import EventKind, PcCommandKind, Room


@dataclass(frozen=True)
class OutageStage:
    """One stage of an outage: what reaching it means for the room, the PC and the journal."""

    id: str                          # the stage's name
    room: Room                       # the room state while in it
    command: PcCommandKind | None    # what the PCs are sent on reaching it (None: nothing)
    event: EventKind                 # the journal event that records it
    field: str                       # the OutageView / Outage field that holds its wall time
    look: str                        # the key of protocol.looks.LOOKS the LED shows


LOST = OutageStage(id="lost", room=Room.ON_BATTERY, command=None, event=EventKind.POWER_LOST,
                   field="started", look=Room.ON_BATTERY.value)
NOTICE = OutageStage(id="notice", room=Room.ON_BATTERY, command=PcCommandKind.NOTICE,
                     event=EventKind.NOTICE_SENT, field="notice_sent", look=Room.ON_BATTERY.value)
WRAPUP = OutageStage(id="wrapup", room=Room.WRAPUP, command=PcCommandKind.WRAPUP,
                     event=EventKind.WRAPUP_SENT, field="wrapup_sent", look=Room.WRAPUP.value)
SHUTDOWN = OutageStage(id="shutdown", room=Room.SHUTDOWN, command=PcCommandKind.SHUTDOWN,
                       event=EventKind.SHUTDOWN_SENT, field="shutdown_sent",
                       look=Room.SHUTDOWN.value)
# Every PC told to shut down acked and went offline (CONTRACT §5.1 `pc_off`): the room stays
# `shutdown`, the LED calms down (protocol/looks.py).
PCS_OFF = OutageStage(id="pc_off", room=Room.SHUTDOWN, command=None, event=EventKind.PC_OFF,
                      field="pc_off", look=PC_OFF)

# In the order an outage goes through them; it never moves back.
OUTAGE_STAGES: tuple[OutageStage, ...] = (LOST, NOTICE, WRAPUP, SHUTDOWN, PCS_OFF)
# The stages that send a PC command, in order (the core sends each once).
COMMAND_STAGES: tuple[OutageStage, ...] = tuple(s for s in OUTAGE_STAGES if s.command is not None)
# The room states of an outage, mildest first.
OUTAGE_ROOMS: tuple[Room, ...] = (Room.ON_BATTERY, Room.WRAPUP, Room.SHUTDOWN)


def by_event(kind: str) -> OutageStage | None:
    """The stage a journal event kind records, or None (``notice_sent`` -> NOTICE)."""
    return next((s for s in OUTAGE_STAGES if s.event == kind), None)


def by_command(kind: str) -> OutageStage | None:
    """The stage that sends this PC command kind, or None (``cancel``, ``test``)."""
    return next((s for s in COMMAND_STAGES if s.command == kind), None)


def by_room(room: str) -> OutageStage | None:
    """The command stage that puts the room in ``room`` (``wrapup`` -> WRAPUP), or None."""
    return next((s for s in COMMAND_STAGES if s.room == room), None)
