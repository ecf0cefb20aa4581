"""Reports being made for ``/report`` and ``/api/report``, away from the threads that serve pages.

A report over an office takes a second or two; over every room of a region or the country for a
year it takes minutes (docs/fleet.md). Made in the request's own thread, each such request held
one of the dashboard's eight page threads for as long: ten planners asking at once (or one
pressing "Show" again and again) and the room list IT watches during a blackout waited 32 s for
a thread (bench/report_page.py, 1,000 rooms), while a load balancer in front gives up on a page
after its own timeout (often 60 s).

So reports are made here, by ``WORKERS`` threads of their own (PostgreSQL makes each report in
one process: two at once use a 2-core server's both cores; more only share them), and a request
asks for one:

- the same report (database, days, rooms) asked while it is being made is made once: every
  asker waits for that one;
- the page waits a few seconds, then shows that the report is being made and comes back for it
  by the job's id (report.js asks ``/report/job/<id>``); the API waits for it, as `siaga report`;
- at most ``THREADS_WAITING`` page threads wait for reports at once: a page beyond that says at
  once that its report is being made, an API request beyond that is told to come back;
- a report made is kept for a while under its id only (for that page to fetch); a new request is
  always made anew, so nobody is shown numbers older than their request;
- at most ``MAX_WAITING`` reports wait their turn; beyond that a request is told to come back
  (``Busy``), instead of a queue that grows for as long as somebody presses the button.
"""

from __future__ import annotations

import secrets
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from typing import Any, Callable, Hashable

WORKERS = 2         # reports made at once
MAX_WAITING = 8     # reports waiting their turn, at most
THREADS_WAITING = 4  # page threads (of dashboard/web/serve.py's 8) waiting for a report at once
KEEP_S = 600.0      # a made report stays fetchable by its id this long
# ... and only the last KEEP_DONE made: its page fetches it within seconds (report.js asks every
# 2 s), and a report is big (5,000 rooms: 15 MB as JSON, several times that in memory). A page
# that comes back for a report let go meanwhile has it made again.
KEEP_DONE = 2


class Busy(Exception):
    """Too many reports are waiting to be made."""


@dataclass(eq=False)
class Job:
    """One report being made (or made): its result or the exception that ended it."""

    key: Hashable
    make: Callable[[], Any] | None      # None once made: the closure holds the request's config
    asked: float                         # wall clock, for "started at"
    id: str = field(default_factory=lambda: secrets.token_urlsafe(9))
    result: Any = None
    error: Exception | None = None
    done: threading.Event = field(default_factory=threading.Event)
    finished: float = 0.0                # monotonic, for expiry


class Reports:
    """The dashboard's report jobs (one instance per app)."""

    def __init__(self, *, wall: Callable[[], float] = time.time,
                 clock: Callable[[], float] = time.monotonic) -> None:
        self._wall, self._clock = wall, clock
        self._lock = threading.Condition()
        self._waiting: deque[Job] = deque()
        self._running: list[Job] = []
        self._by_id: dict[str, Job] = {}
        self._threads: list[threading.Thread] = []
        self._permits = threading.BoundedSemaphore(THREADS_WAITING)

    def ask(self, key: Hashable, make: Callable[[], Any]) -> Job:
        """The job making ``key``'s report: the one already waiting or running, else a new one
        (``make`` is called in a worker). Busy when ``MAX_WAITING`` wait already."""
        with self._lock:
            self._expire()
            for job in (*self._running, *self._waiting):
                if job.key == key:
                    return job
            if len(self._waiting) >= MAX_WAITING:
                raise Busy(f"{len(self._waiting)} reports are waiting to be made")
            job = Job(key=key, make=make, asked=self._wall())
            self._waiting.append(job)
            self._by_id[job.id] = job
            if len(self._threads) < WORKERS:
                thread = threading.Thread(target=self._work, daemon=True,
                                          name=f"siaga-reports-{len(self._threads) + 1}")
                self._threads.append(thread)
                thread.start()
            self._lock.notify()
            return job

    def wait(self, job: Job, timeout: float | None) -> bool | None:
        """Wait in this thread until ``job`` is made (at most ``timeout`` s): True when made,
        False when not yet, None when ``THREADS_WAITING`` threads wait already (no wait)."""
        if job.done.is_set():
            return True
        if not self._permits.acquire(blocking=False):
            return None
        try:
            return job.done.wait(timeout)
        finally:
            self._permits.release()

    def find(self, job_id: str) -> Job | None:
        """The job with ``job_id``, while it is kept; None after (or for an id never given)."""
        with self._lock:
            self._expire()
            return self._by_id.get(job_id)

    def ahead(self, job: Job) -> int:
        """How many reports are being made or will start before ``job`` (0 once it runs)."""
        with self._lock:
            try:
                return self._waiting.index(job) + len(self._running)
            except ValueError:   # running or made
                return 0

    def _expire(self) -> None:
        now = self._clock()
        done = [j for j in self._by_id.values() if j.done.is_set()]
        done.sort(key=lambda j: j.finished)
        for i, job in enumerate(done):
            if now - job.finished > KEEP_S or i < len(done) - KEEP_DONE:
                del self._by_id[job.id]

    def _work(self) -> None:
        while True:
            with self._lock:
                while not self._waiting:
                    self._lock.wait()
                job = self._waiting.popleft()
                self._running.append(job)
            try:
                assert job.make is not None     # a job is taken from the queue once
                job.result = job.make()
            except Exception as exc:  # noqa: BLE001 - handed to every asker, never lost here
                job.error = exc
            finally:
                with self._lock:
                    job.finished = self._clock()
                    job.make = None
                    self._running.remove(job)
                    job.done.set()

