"""The needs report's numbers from the dashboard's PostgreSQL (CONTRACT §6.5): the same report as
dashboard/report/data.py gives from SQLite, with the folding done by the database.

What runs in SQL, over every chosen site at once (``site = ANY(...)``, the window's ``ts``):

- meetings and conversions (most of the events): each PC's starts and ends are paired by window
  functions (a start counts when the PC's previous token was not a start, an end when it was:
  the same state machine as dashboard/report/facts.py; a meeting cut by ``pc_offline`` and
  started again soon after is one meeting there and here), and only numbers come back, per site
  and for the office (GROUPING SETS): counts, lengths summed as whole microseconds, the peak of
  concurrent meetings (a running sum over starts and ends), the middle values of the conversion
  lengths and speeds, meetings started while their PC converted;
- outages: power_lost / power_restored and the steps between them are paired in SQL (groups
  numbered by the power_lost before them); one row per outage comes back, with whether it
  overlapped a meeting (a sweep over the site's meetings) and the power_lost's ``ups`` (as JSON
  text, read by the same facts.ups_names as the Python fold) - a few per room and week;
- per site: the number of events, and whether any meeting or conversion event was journaled.

What Python still folds, from rows the database selected: the kinds the report reads one by one
(ups_selftest, replace_battery, runtime_learned: a few per room and month; booking, not_ready:
one per booked meeting; through the same code as the SQLite reader), and the outages' own numbers (by hour, by month,
medians near the usual load). The merged meeting time (``busy``) is fetched only for the sites
that have history samples to compare with it.

The numbers do not depend on where they were added up: every float that reaches the report is
either selected as stored or made by the same single IEEE operation in both places, and sums
over many rows are integers (microseconds). A ``detail`` that is not JSON on an event the SQL
reads (a meeting, conversion, PC or power event) makes PostgreSQL's JSON cast fail: then the
report folds every chosen site's events in Python, as the SQLite reader does (slower, same
numbers). Not covered: JSON that Python reads and PostgreSQL does not (NaN, ``\u0000``) goes the
same way; a number written ``-0.0`` loses its sign in PostgreSQL. A read-only transaction: a report never
changes the database.
"""

from __future__ import annotations

import json
from collections import defaultdict
from typing import Any, Iterator

from dashboard.report import facts
from dashboard.report.build import SiteInput
from dashboard.report.data import DETAIL_KINDS, NO_DETAIL, ReportError, Row
from dashboard.report.facts import Outage, SiteFacts, SpanSums, Window
from dashboard.report.needs import Sample
from protocol.messages import EventKind as K


WORK_MEM = "256MB"   # the sorts of a year of every room stay in memory (PostgreSQL's default: 4 MB)


def _in(kinds: Any) -> str:
    """An SQL list of kind names (the enum's own values: no quoting needed, none given by users)."""
    return ", ".join(f"'{k}'" for k in sorted(kinds))


STEPS = _in(facts.OUTAGE_STEPS)
GONE = _in(facts.PC_GONE)
SPANS = _in(facts.SPAN_KINDS)
ONE_BY_ONE = _in((K.UPS_SELFTEST.value, K.REPLACE_BATTERY.value, K.RUNTIME_LEARNED.value,
                  K.BOOKING.value, K.NOT_READY.value))


def _num(j: str) -> str:
    """facts.number in SQL: a JSON number that fits a float8, else NULL."""
    return (f"CASE WHEN jsonb_typeof({j}) = 'number' AND abs(({j})::numeric) <= "
            f"1.7976931348623157e308 THEN ({j})::float8 END")


# The window's events of the chosen sites; every CTE below reads it once.
_EV = "SELECT site COLLATE \"C\" AS site, seq, ts, kind, detail FROM events WHERE site = ANY(%(sites)s) AND ts >= %(start)s AND ts < %(end)s"

# Meetings ('m') and conversions ('c') of each (site, pc), paired in SQL. The two windows share
# one sort (C collation: byte order is enough for grouping); a PC going away ends both kinds.
_PC = ("CASE WHEN jsonb_typeof(detail::jsonb -> 'pc') = 'string' THEN detail::jsonb ->> 'pc' "
       "ELSE '' END")
_SPANS_CTE = f"""
tok AS (   -- k: 0 a start or end, 1 pc_offline, 2 pc_off
  SELECT site, seq, ts, {_PC} COLLATE "C" AS pc,
         CASE WHEN kind IN ('meeting_started', 'meeting_ended') THEN 'm' ELSE 'c' END AS w,
         kind IN ('meeting_started', 'conversion_started') AS s,
         CASE WHEN kind = 'meeting_started' AND jsonb_typeof(detail::jsonb -> 'app') = 'string'
              THEN detail::jsonb ->> 'app' ELSE '' END AS app,
         kind = 'meeting_started' AND coalesce((detail::jsonb ->> 'by') IN ({_in(facts.LIVE_BY)}),
                                               false) AS live, 0 AS k
  FROM ev WHERE kind IN ({SPANS})
  UNION ALL
  SELECT site, seq, ts, {_PC} COLLATE "C", w, false, '', false,
         CASE WHEN kind = '{facts.PC_OFFLINE}' THEN 1 ELSE 2 END
  FROM ev CROSS JOIN (VALUES ('m'), ('c')) AS v(w) WHERE kind IN ({GONE})
),
piece AS (   -- a start while none runs, an end while one runs: they alternate per (site, pc, w)
             -- (offs: the PC's pc_off up to each token). A meeting cut by pc_offline goes on
             -- (cont) when its PC, not shut down by Siaga (no pc_off since), starts one of the
             -- same app within RESTART_GAP_S (facts.py); more: the next one goes on with this
             -- one. Kept: each island's first and last piece; lives: live pieces up to each
  SELECT * FROM (
    SELECT site, pc, w, seq, ts AS start, s, app, live,
           lead(ts) OVER p AS stop, lead(seq) OVER p AS stop_seq,
           coalesce(w = 'm' AND lag(k) OVER p = 1 AND lag(offs) OVER p = offs
                    AND ts - lag(ts) OVER p <= {facts.RESTART_GAP_S}
                    AND lag(app, 2) OVER p = app, false) AS cont,
           coalesce(w = 'm' AND lead(k) OVER p = 1 AND lead(offs, 2) OVER p = lead(offs) OVER p
                    AND lead(ts, 2) OVER p - lead(ts) OVER p <= {facts.RESTART_GAP_S}
                    AND lead(app, 2) OVER p = app, false) AS more,
           count(*) FILTER (WHERE s AND live) OVER p AS lives
    FROM (SELECT *, lag(s) OVER p AS ps, count(*) FILTER (WHERE k = 2) OVER p AS offs FROM tok
          WINDOW p AS (PARTITION BY site, pc, w ORDER BY seq)) t
    WHERE s <> coalesce(ps, false)
    WINDOW p AS (PARTITION BY site, pc, w ORDER BY seq)) u
  WHERE s AND (NOT cont OR NOT more)
),
span AS (   -- one per island: its first piece, ending where its last piece (the next row) ends
  SELECT site, pc, w, seq, start, coalesce(stop, %(end)s) AS stop, stop_seq, app, live FROM (
    SELECT site, pc, w, seq, start, cont, app,
           CASE WHEN more THEN lead(stop) OVER p ELSE stop END AS stop,
           CASE WHEN more THEN lead(stop_seq) OVER p ELSE stop_seq END AS stop_seq,
           live OR (more AND lead(lives) OVER p > lives) AS live
    FROM piece WINDOW p AS (PARTITION BY site, pc, w ORDER BY seq)) h
  WHERE NOT cont
)"""

_OUTAGES_CTE = f"""
oev AS (
  SELECT site, seq, ts, kind,
         CASE WHEN kind IN ('power_lost', 'power_restored') THEN detail::jsonb END AS j,
         count(*) FILTER (WHERE kind = 'power_lost') OVER (PARTITION BY site ORDER BY seq) AS g
  FROM ev WHERE kind IN ('power_lost', 'power_restored', {STEPS})
),
o1 AS (
  SELECT *, coalesce(min(seq) FILTER (WHERE kind = 'power_restored') OVER (PARTITION BY site, g),
                     9223372036854775807) AS r
  FROM oev WHERE g > 0
),
o2 AS (
  SELECT site, g, max(g) OVER (PARTITION BY site) AS last_g,
         min(ts) FILTER (WHERE kind = 'power_lost') AS start,
         min({_num("j -> 'load_pct'")}) FILTER (WHERE kind = 'power_lost') AS load,
         min({_num("j -> 'runtime_s'")}) FILTER (WHERE kind = 'power_lost') AS runtime,
         min(CASE WHEN jsonb_typeof(j) = 'object' AND j ? 'runtime_claimed_s'
                  THEN {_num("j -> 'runtime_claimed_s'")} ELSE {_num("j -> 'runtime_s'")} END)
             FILTER (WHERE kind = 'power_lost') AS claimed,
         min({_num("j -> 'charge_pct'")}) FILTER (WHERE kind = 'power_lost') AS charge,
         (array_agg(j -> 'ups') FILTER (WHERE kind = 'power_lost'))[1] AS ups,
         min(ts) FILTER (WHERE seq = r) AS r_ts,
         min({_num("j -> 'duration_s'")}) FILTER (WHERE seq = r) AS dur,
         (array_agg(ts ORDER BY seq DESC) FILTER (WHERE kind IN ({STEPS}) AND seq < r))[1] AS last_step,
         coalesce(bool_or(kind = 'shutdown_sent' AND seq < r), false) AS shutdown
  FROM o1 GROUP BY site, g
),
outage AS (
  SELECT site, g, start, load, runtime, claimed, charge, ups, shutdown,
         CASE WHEN r_ts IS NOT NULL THEN r_ts WHEN g < last_g THEN coalesce(last_step, start)
              ELSE %(end)s END AS stop,
         CASE WHEN r_ts IS NOT NULL THEN CASE WHEN dur >= 0 THEN dur ELSE r_ts - start END
              WHEN g < last_g THEN coalesce(last_step, start) - start ELSE %(end)s - start END AS length,
         r_ts IS NULL AND g < last_g AS unended
  FROM o2
)"""

# Row layout of the answer: tag, site (NULL: the office), then numbers by tag.
_COLS = "tag, site, g, n1, n2, n3, f1, f2, f3, f4, f5, f6, f7, b1, b2, b3, t"


def _row(tag: str, site: str = "site", g: str = "NULL", n: tuple = (), f: tuple = (),
         b: tuple = (), t: str = "NULL::text") -> str:
    n = (*n, *["NULL"] * (3 - len(n)))
    f = (*f, *["NULL"] * (7 - len(f)))
    b = (*b, *["NULL"] * (3 - len(b)))
    return (f"'{tag}'::text, {site}::text, ({g})::bigint, "
            + ", ".join(f"({x})::numeric" for x in n) + ", "
            + ", ".join(f"({x})::float8" for x in f) + ", "
            + ", ".join(f"({x})::boolean" for x in b) + f", {t}")


_FOLD_SQL = f"""
WITH ev AS NOT MATERIALIZED ({_EV}),
{_SPANS_CTE},
{_OUTAGES_CTE},
swept AS (   -- each room's meeting starts (o 2) and ends (o 0) and its outages' ends (o 1) and
             -- starts (o 3) in time order, one sort for the room's peak and the outages' overlaps
  SELECT site, x, o, d, live, og,
         sum(d) OVER w AS run, sum(d) FILTER (WHERE live) OVER w AS live_run,
         count(*) FILTER (WHERE o = 2) OVER w AS starts, max(mstop) OVER w AS before_stop
  FROM (SELECT site, start AS x, 2 AS o, 1 AS d, live, NULL::bigint AS og, stop AS mstop
        FROM span WHERE w = 'm'
        UNION ALL SELECT site, stop, 0, -1, live, NULL, NULL FROM span WHERE w = 'm'
        UNION ALL SELECT site, stop, 1, 0, false, g, NULL FROM outage
        UNION ALL SELECT site, start, 3, 0, false, g, NULL FROM outage) u
  WINDOW w AS (PARTITION BY site ORDER BY x, o ROWS UNBOUNDED PRECEDING)
),
during AS (   -- an outage overlaps a meeting: one covers its start, or one starts inside it
  SELECT site, og FROM swept WHERE og IS NOT NULL GROUP BY site, og
  HAVING bool_or(o = 3 AND before_stop > x)
      OR max(starts) FILTER (WHERE o = 1) > max(starts) FILTER (WHERE o = 3)
),
sums AS (
  SELECT site, count(*) FILTER (WHERE w = 'm') AS meetings,
         count(*) FILTER (WHERE w = 'm' AND live) AS live,
         sum(round((stop - start) * 1000000::float8)::bigint) FILTER (WHERE w = 'm') AS us,
         count(*) FILTER (WHERE w = 'c') AS n,
         max(stop - start) FILTER (WHERE w = 'c') AS longest,
         array_agg(stop - start ORDER BY stop - start) FILTER (WHERE w = 'c') AS lens
  FROM span GROUP BY GROUPING SETS ((site), ())
),
apps AS (
  SELECT site, CASE WHEN app = '' THEN '{facts.UNKNOWN_APP}' ELSE app END AS app, count(*) AS n,
         sum(round((stop - start) * 1000000::float8)::bigint) AS us
  FROM span WHERE w = 'm' GROUP BY GROUPING SETS ((site, 2), (2))
),
peaks AS (
  SELECT site, max(run) FILTER (WHERE o = 2) AS peak, max(live_run) FILTER (WHERE o = 2 AND live) AS peak_live
  FROM swept GROUP BY site
  UNION ALL
  SELECT NULL, max(run) FILTER (WHERE d = 1), max(live_run) FILTER (WHERE d = 1 AND live)
  FROM (SELECT d, live, sum(d) OVER w AS run, sum(d) FILTER (WHERE live) OVER w AS live_run
        FROM (SELECT start AS x, 1 AS o, 1 AS d, live FROM span WHERE w = 'm'
              UNION ALL SELECT stop, 0, -1, live FROM span WHERE w = 'm') steps
        WINDOW w AS (ORDER BY x, o ROWS UNBOUNDED PRECEDING)) s
),
delayed AS (   -- a meeting started on a PC still converting (a conversion started before it,
               -- ending after it in the journal's order, or not yet)
  SELECT site, count(*) AS n FROM (
    SELECT site, w, seq, max(CASE WHEN w = 'c' THEN coalesce(stop_seq, 9223372036854775807) END)
             OVER (PARTITION BY site, pc ORDER BY seq ROWS BETWEEN UNBOUNDED PRECEDING AND 1 PRECEDING)
             AS converting_until
    FROM span) t
  WHERE w = 'm' AND converting_until > seq GROUP BY GROUPING SETS ((site), ())
),
speed AS (   -- a conversion's speed: the meeting that ended last on its PC before it started
  SELECT site, (last[1] - last[2]) / (stop - start) AS v FROM (
    SELECT site, w, start, stop,
           max(CASE WHEN w = 'm' THEN ARRAY[stop, start] END)
             OVER (PARTITION BY site, pc ORDER BY CASE WHEN w = 'm' THEN stop ELSE start END,
                   CASE WHEN w = 'm' THEN 0 ELSE 1 END, start ROWS UNBOUNDED PRECEDING) AS last
    FROM span) t
  WHERE w = 'c' AND last IS NOT NULL AND start - last[1] <= {facts.RECORDING_GAP_S}
        AND stop < %(end)s AND stop > start
),
speeds AS (
  SELECT site, count(*) AS n, array_agg(v ORDER BY v) AS vs FROM speed GROUP BY GROUPING SETS ((site), ())
)
SELECT {_row('o', g='o.g', f=('start', 'stop', 'length', 'load', 'runtime', 'claimed', 'charge'),
             b=('shutdown', 'unended', 'd.og IS NOT NULL'), t='o.ups::text', site='o.site')}
  FROM outage o LEFT JOIN during d ON d.site = o.site AND d.og = o.g
UNION ALL SELECT {_row('s', n=('meetings', 'live', 'us'))} FROM sums
UNION ALL SELECT {_row('c', n=('n',), f=('lens[(n + 1) / 2]', 'lens[n / 2 + 1]', 'longest'))}
  FROM sums WHERE n > 0
UNION ALL SELECT {_row('a', n=('n', 'us'), t='app')} FROM apps
UNION ALL SELECT {_row('p', n=('peak', 'peak_live'))} FROM peaks
UNION ALL SELECT {_row('d', n=('n',))} FROM delayed
UNION ALL SELECT {_row('v', n=('n',), f=('vs[(n + 1) / 2]', 'vs[n / 2 + 1]'))} FROM speeds
ORDER BY 1, 2, 3
"""

_COUNT_SQL = (f"SELECT site, count(*), count(*) FILTER (WHERE kind IN ({SPANS})) FROM ({_EV}) ev "
              "GROUP BY site")
_ONE_BY_ONE_SQL = (f"SELECT site, ts, kind, detail FROM ({_EV}) ev WHERE kind IN ({ONE_BY_ONE}) "
                   "ORDER BY site, seq")
_BUSY_SQL = f"""
WITH ev AS NOT MATERIALIZED ({_EV}),
{_SPANS_CTE}
SELECT site, min(start), max(stop) FROM (
  SELECT site, start, stop, count(*) FILTER (WHERE start > before) OVER (PARTITION BY site ORDER BY
           start ROWS UNBOUNDED PRECEDING) AS island
  FROM (SELECT site, start, stop, max(stop) OVER (PARTITION BY site ORDER BY start ROWS BETWEEN
               UNBOUNDED PRECEDING AND 1 PRECEDING) AS before FROM span WHERE w = 'm') t) u
GROUP BY site, island ORDER BY site, 2
"""


def open_readonly(url: str) -> Any:
    """A read-only connection to the dashboard's PostgreSQL; ReportError (one line) when it
    cannot be reached or holds no Siaga data."""
    import psycopg
    from dashboard.store.engine import reason, shown
    try:
        conn = psycopg.connect(url, connect_timeout=10)
        conn.read_only = True
        row = conn.execute("SELECT to_regclass('events') IS NOT NULL AND "
                           "to_regclass('latest') IS NOT NULL").fetchone()
        assert row is not None   # a SELECT without FROM is one row
        found = row[0]
    except psycopg.Error as exc:
        raise ReportError(f"{shown(url)}: cannot read: {reason(exc, url)}") from None
    if not found:
        conn.close()
        raise ReportError(f"{shown(url)}: not a Siaga database (no events table)")
    return conn


def site_ids(conn: Any) -> list[str]:
    """Every site the database has seen: in its events or its last known states."""
    rows = conn.execute("SELECT site FROM latest UNION SELECT DISTINCT site FROM events").fetchall()
    return sorted(r[0] for r in rows)


def _detail(text: str | None) -> dict[str, Any]:
    if text is None:
        return {}
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def events(conn: Any, site: str, win: Window) -> Iterator[Row]:
    """The site's events inside the window, oldest first, through a server-side cursor, with the
    ``pc`` taken out of the JSON here (as data.events does: a detail that is not JSON has none)."""
    with conn.cursor(name=f"report_{abs(hash(site))}") as cur:
        cur.itersize = 5000
        cur.execute("SELECT ts, kind, detail FROM events WHERE site = %s AND ts >= %s AND ts < %s "
                    "ORDER BY seq", (site, win.start, win.end))
        for ts, kind, text in cur:
            detail = _detail(text)
            pc = detail.get("pc")
            yield (ts, kind, pc if pc.__class__ is str else "",
                   detail if kind in DETAIL_KINDS else NO_DETAIL)


def _states(conn: Any, sites: list[str]) -> dict[str, dict[str, Any]]:
    rows = conn.execute("SELECT site, state FROM latest WHERE site = ANY(%s)", (sites,)).fetchall()
    return {site: state for site, text in rows if (state := _detail(text))}


def _samples(conn: Any, sites: list[str], win: Window) -> dict[str, list[Sample]]:
    """history_samples of every chosen site in three queries (not three per site)."""
    cols = "site, start, load_last, voltage_min, voltage_max, runtime_last"
    where = "WHERE site = ANY(%s) AND start >= %s AND start < %s ORDER BY site, start"
    minutes: dict[str, list[tuple]] = defaultdict(list)
    hours: dict[str, list[tuple]] = defaultdict(list)
    spans: dict[str, list[tuple]] = defaultdict(list)
    # fetchall: psycopg's row-by-row iteration costs about 12 us a row (900,000 outages at 5,000 rooms)
    for site, *row in conn.execute(f"SELECT {cols} FROM minutes {where}", (sites, win.start, win.end)).fetchall():
        minutes[site].append(row)
    for site, *row in conn.execute(f"SELECT {cols} FROM hours {where}", (sites, win.start, win.end)).fetchall():
        first = minutes[site][0][0] if minutes.get(site) else win.end
        if row[0] < first:
            hours[site].append(row)
    for site, a, b in conn.execute(
            "SELECT site, start, coalesce(stop, %s) FROM battery WHERE site = ANY(%s) AND "
            "coalesce(stop, %s) >= %s AND start < %s", (win.end, sites, win.end, win.start, win.end)).fetchall():
        spans[site].append((a, b))
    out = {}
    for site in sites:
        out[site] = [Sample(ts=ts, load=load, voltage_min=vmin, voltage_max=vmax, runtime=runtime,
                            on_battery=any(a <= ts < b for a, b in spans.get(site, ())))
                     for ts, load, vmin, vmax, runtime in hours.get(site, []) + minutes.get(site, [])]
    return out


def _rows(conn: Any, sql: str, params: dict[str, Any]) -> Iterator[tuple]:
    """The rows of ``sql`` through a server-side cursor, 10,000 at a time: an outage a row is
    900,000 rows at 5,000 rooms, never all in memory at once (and psycopg's row-by-row iteration
    costs about 12 us a row, fetchmany a tenth of that)."""
    with conn.cursor(name="report_fold") as cur:
        cur.execute(sql, params)
        while rows := cur.fetchmany(10000):
            yield from rows


def _middle(n: Any, lo: float | None, hi: float | None) -> float | None:
    """facts.median from the two middle values the database picked."""
    if not n:
        return None
    assert lo is not None and hi is not None   # n values: the database found both middle ones
    return lo if int(n) % 2 else (lo + hi) / 2


def fold(conn: Any, sites: list[str], win: Window) -> tuple[dict[str, SiteFacts], SpanSums]:
    """Every chosen site's facts and the office's span numbers, added up by the database."""
    params = {"sites": sites, "start": win.start, "end": win.end}
    conn.execute(f"SET LOCAL work_mem = '{WORK_MEM}'")
    conn.execute("SET LOCAL jit = off")   # compiling this query took longer than running it
    found = {site: SiteFacts(site, meetings=None, conversions=None, speeds=None) for site in sites}
    office = SpanSums()
    for site, count, spans in conn.execute(_COUNT_SQL, params).fetchall():
        found[site].events = count
        found[site].spans.known = spans > 0
    office.known = any(f.spans.known for f in found.values())
    for tag, site, _g, n1, n2, n3, f1, f2, f3, f4, f5, f6, f7, b1, b2, b3, t in _rows(conn, _FOLD_SQL, params):
        if tag == "o":
            f = found[site]
            f.outages.append(Outage(start=f1, end=f2, length=f3, shutdown=b1, unended=b2,
                                    load_pct=f4, runtime_s=f5, claimed_s=f6, charge_pct=f7,
                                    ups=facts.ups_names(None if t is None else json.loads(t))))
            f.during += b3
            continue
        sums = office if site is None else found[site].spans
        if tag == "s":
            sums.meetings, sums.live, sums.meeting_us = int(n1), int(n2), int(n3 or 0)
        elif tag == "c":
            sums.conversions = int(n1)
            sums.conversion_median, sums.conversion_longest = _middle(n1, f1, f2), f3
        elif tag == "a":
            sums.by_app[t] = [int(n1), int(n2)]
        elif tag == "p":
            sums.peak, sums.peak_live = max(int(n1 or 0), 0), max(int(n2 or 0), 0)
        elif tag == "d":
            sums.delayed = int(n1)
        elif tag == "v":
            sums.speed = _middle(n1, f1, f2)
    for site, ts, kind, text in conn.execute(_ONE_BY_ONE_SQL, params).fetchall():
        f = found[site]
        reader = facts._Reader(site, win)
        reader.facts = f
        reader.other(ts, kind, "", _detail(text))
    return found, office


def busy(conn: Any, sites: list[str], win: Window) -> dict[str, list[tuple[float, float]]]:
    """The merged meeting time of ``sites`` (facts.merged), for comparing history samples with."""
    out: dict[str, list[tuple[float, float]]] = defaultdict(list)
    if sites:
        for site, start, stop in conn.execute(_BUSY_SQL, {"sites": sites, "start": win.start,
                                                          "end": win.end}).fetchall():
            out[site].append((start, stop))
    return out


def report_inputs(conn: Any, sites: list[str], win: Window) -> tuple[list[SiteInput], SpanSums | None]:
    """The inputs of build() for ``sites``, reduced by the database; the office's span numbers.
    When some detail is not JSON (PostgreSQL cannot cast it), every site's events are folded in
    Python instead (office None: build adds the sites up)."""
    import psycopg
    states = _states(conn, sites)
    samples = _samples(conn, sites, win)
    try:
        found, office = fold(conn, sites, win)
    except psycopg.DataError:
        conn.rollback()
        return site_inputs(conn, sites, win, states, samples), None
    with_samples = [s for s in sites if any(x.load is not None for x in samples[s])]
    for site, merged in busy(conn, with_samples, win).items():
        found[site].busy = merged
    inputs = []
    for site in sites:
        state = states.get(site)
        name = state.get("name") if state and isinstance(state.get("name"), str) else ""
        inputs.append(SiteInput(site=site, name=name or site, events=iter(()), state=state,
                                samples=samples[site], facts=found[site]))
    return inputs, office


def site_inputs(conn: Any, sites: list[str], win: Window, states: dict[str, Any] | None = None,
                samples_of: dict[str, list[Sample]] | None = None) -> list[SiteInput]:
    """One SiteInput per site with its events, for the Python fold."""
    states = _states(conn, sites) if states is None else states
    samples_of = _samples(conn, sites, win) if samples_of is None else samples_of
    out = []
    for site in sites:
        state = states.get(site)
        name = state.get("name") if state and isinstance(state.get("name"), str) else ""
        out.append(SiteInput(site=site, name=name or site, events=events(conn, site, win),
                             state=state, samples=samples_of[site]))
    return out
