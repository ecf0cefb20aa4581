"""The overview at fleet size: groups of sites (CONTRACT §5.6), search, filters and counts.

Pure functions over the store's entries; dashboard/web/pages.py reads the query and renders. Filters
are plain query parameters (``?q=&state=&group=&view=``), so they work without JavaScript.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from dashboard.store.entry import SiteEntry
from dashboard.web import present
from protocol.messages import Room

VIEWS = ("cards", "table")
PROBLEMS = "problems"          # the state filter "every room that is not ready"
STATES = tuple(sorted(present.RANK, key=present.RANK.__getitem__))   # worst first: the order of counts
STATES_SEEN = tuple(s for s in STATES if s != present.NEVER_SEEN)   # the filter when none is expected
MAX_QUERY = 100
# Rooms on one page unless ?all=1. CONTRACT §4 promises one card per site on GET /, which holds
# up to 2,000 rooms (issue 10's size: p95 ~175 ms measured); a larger fleet gets its problems
# first (the rooms left out are the mildest) and a search or filter reaches any room.
PAGE_ROOMS = 2000


@dataclass(frozen=True)
class Filters:
    """What the reader asked the overview to show."""

    q: str = ""
    state: str = ""            # "" = every state, "problems", or one of STATES
    group: str = ""            # "" = every group
    view: str = "cards"
    all: str = ""              # "1" = every matching room, not only the first PAGE_ROOMS

    def query(self, **change: str) -> dict[str, str]:
        """These filters as query parameters (only the ones set), with ``change`` applied."""
        values = {"q": self.q, "state": self.state, "group": self.group, "view": self.view,
                  "all": self.all, **change}
        return {k: v for k, v in values.items() if v and not (k == "view" and v == "cards")}


def read_filters(args: Mapping[str, str], group: str = "") -> Filters:
    """Filters from the query; unknown states and views fall back to all and cards."""
    state = args.get("state", "")
    view = args.get("view", "cards")
    return Filters(q=" ".join(args.get("q", "").split())[:MAX_QUERY],
                   state=state if state in STATES or state == PROBLEMS else "",
                   group=group or args.get("group", "")[:MAX_QUERY],
                   view=view if view in VIEWS else "cards",
                   all="1" if args.get("all") == "1" else "")


def expected_sites(sites: str | tuple[str, ...], groups: Mapping[str, tuple[str, ...]]) -> tuple[str, ...]:
    """The rooms the config names, which the overview shows even before they report: the ids
    of an explicit ``dashboard.sites`` list and the plain ids (not ``prefix*``) of
    ``dashboard.groups`` that ``dashboard.sites`` lets in. ``sites = "+"`` alone names none."""
    named = [] if sites == "+" else list(sites)
    named += [p for patterns in groups.values() for p in patterns
              if not p.endswith("*") and (sites == "+" or p in sites)]
    return tuple(sorted(set(named)))


def unseen_entry(site: str) -> SiteEntry:
    """The overview's stand-in for a room the config names that has never sent a state: its
    status is "never_seen" and its only data is its id (it has no snapshot; the card and row
    templates show it without one)."""
    return SiteEntry(state=None,  # type: ignore[arg-type]  # never read: see the templates
                     data={"site": site, "room": present.NEVER_SEEN, "name": "", "ts": 0.0},
                     version=-1)


def member(pattern: str, site: str) -> bool:
    """True when ``site`` is ``pattern`` or starts with its prefix (``kominfo-*``)."""
    return site.startswith(pattern[:-1]) if pattern.endswith("*") else site == pattern


class Groups:
    """dashboard.groups with each site's groups remembered (the ids of a fleet rarely change)."""

    def __init__(self, groups: Mapping[str, tuple[str, ...]], max_sites: int,
                 expected: tuple[str, ...] = ()) -> None:
        self.names = tuple(groups)
        self.expected = expected     # expected_sites: shown as "never reported" until they do
        self._patterns = dict(groups)
        self._of: dict[str, frozenset[str]] = {}
        self._keep = 2 * max_sites   # the store holds at most max_sites; the rest are gone ids

    def __contains__(self, name: object) -> bool:
        return name in self._patterns

    def of(self, site: str) -> frozenset[str]:
        """The groups ``site`` belongs to."""
        hit = self._of.get(site)
        if hit is None:
            if len(self._of) >= self._keep:   # ids of sites long gone
                self._of.clear()
            hit = self._of[site] = frozenset(
                name for name, patterns in self._patterns.items()
                if any(member(p, site) for p in patterns))
        return hit


def in_group(entries: list[SiteEntry], groups: Groups, group: str) -> list[SiteEntry]:
    """The entries of ``group``; all of them for ""."""
    return entries if not group else [e for e in entries if group in groups.of(e.site)]


def matches(entry: SiteEntry, filters: Filters) -> bool:
    """True when the entry passes the search and the state filter."""
    status = present.status(entry)
    if filters.state == PROBLEMS and status == Room.READY:
        return False
    if filters.state not in ("", PROBLEMS) and status != filters.state:
        return False
    if filters.q:
        needle = filters.q.lower()
        return needle in entry.site or needle in present.entry_name(entry).lower()
    return True


@dataclass(frozen=True)
class Selection:
    """What the overview shows: the group's rooms, how many pass the filters, the ones shown."""

    scope: list[SiteEntry]
    matching: int
    shown: list[SiteEntry]


def members(store: Any, cache: Any, groups: Groups, group: str) -> list[SiteEntry]:
    """The entries of ``group``, by id; its members' ids are found again only when a site came
    or went (``store.roster``), not by looking at every room of the country on each request."""
    known = cache.members.get(group)
    if known is None or known[0] != store.roster:
        roster = store.roster    # read first: a site coming meanwhile makes them again next time
        known = cache.members[group] = (roster, [e.site for e in in_group(store.entries(), groups, group)])
    return store.entries_of(known[1])


def unseen(store: Any, cache: Any, groups: Groups, group: str) -> list[SiteEntry]:
    """Stand-ins (``unseen_entry``) for the expected rooms of ``group`` (all for "") that have
    no state; looked for again only when a site came or went (``store.roster``)."""
    if not groups.expected:
        return []
    known = cache.unseen
    if known is None or known[0] != store.roster:
        roster = store.roster
        present_ids = {e.site for e in store.entries_of(list(groups.expected))}
        known = cache.unseen = (roster, [unseen_entry(s) for s in groups.expected if s not in present_ids])
    return in_group(known[1], groups, group)


def select(scope: list[SiteEntry], filters: Filters) -> Selection:
    """The rooms of ``scope`` (every room, or the group's) passing ``filters``, problems first,
    the first PAGE_ROOMS unless ``all``."""
    passing = present.sort_for_overview([e for e in scope if matches(e, filters)])
    # Problems come first: the rooms left out are the calmest ones.
    shown = passing if filters.all else passing[:PAGE_ROOMS]
    return Selection(scope, len(passing), shown)


def counts(entries: list[SiteEntry]) -> dict[str, int]:
    """Rooms per state (only the states that occur), worst first."""
    found: dict[str, int] = {}
    for entry in entries:
        status = present.status(entry)
        found[status] = found.get(status, 0) + 1
    return {s: found[s] for s in STATES if s in found}


def count_rows(entries: list[SiteEntry], groups: Groups, only: str = "") -> list[dict[str, Any]]:
    """One row of counts per group, after one for every room; with ``only``, ``entries`` are
    that group's rooms and its row is the only one."""
    if only:
        return [{"group": only, "total": len(entries), "counts": counts(entries)}]
    per: dict[str, dict[str, int]] = {name: {} for name in groups.names}
    totals = dict.fromkeys(groups.names, 0)
    every: dict[str, int] = {}
    for entry in entries:      # one pass: a status once per room, not once per room and group
        status = present.status(entry)
        every[status] = every.get(status, 0) + 1
        for name in groups.of(entry.site):
            found = per[name]
            found[status] = found.get(status, 0) + 1
            totals[name] += 1
    ordered = lambda found: {s: found[s] for s in STATES if s in found}  # noqa: E731
    return ([{"group": "", "total": len(entries), "counts": ordered(every)}]
            + [{"group": name, "total": totals[name], "counts": ordered(per[name])} for name in groups.names])
