"""The dashboard's report jobs (dashboard/web/report_jobs.py): a report asked again while it is
being made is made once, a new request after it is made anew, a queue that is full says so, a
report that fails tells every asker and the next report is still made, a made report is kept
for its page a while and then let go. Reports here are plain functions that wait for the test."""

from __future__ import annotations

import threading

import pytest

from dashboard.web import report_jobs
from dashboard.web.report_jobs import Busy, Reports
from tests.waiting import wait_until


class Gate:
    """A report that is made when the test opens the gate, counting how often it was made."""

    def __init__(self, answer: object = "made") -> None:
        self.opened, self.started, self.calls, self.answer = threading.Event(), threading.Event(), 0, answer

    def __call__(self) -> object:
        self.calls += 1
        self.started.set()
        assert self.opened.wait(10), "the test never opened the gate"
        if isinstance(self.answer, Exception):
            raise self.answer
        return self.answer


def test_the_same_report_asked_while_it_is_made_is_made_once():
    reports, gate = Reports(), Gate()
    first = reports.ask(("db", "2026-11-01", "2026-11-30", None), gate)
    assert gate.started.wait(5)
    again = reports.ask(("db", "2026-11-01", "2026-11-30", None), gate)
    assert again is first
    gate.opened.set()
    assert first.done.wait(5)
    assert (first.result, gate.calls) == ("made", 1)
    # Once made, the same request is made anew: nobody is shown numbers older than they asked for.
    later = reports.ask(("db", "2026-11-01", "2026-11-30", None), gate)
    assert later is not first and later.done.wait(5) and gate.calls == 2


def test_reports_wait_their_turn_and_a_full_queue_says_so():
    reports, workers = Reports(), report_jobs.WORKERS
    gates = [Gate(answer=n) for n in range(workers + report_jobs.MAX_WAITING)]
    jobs = [reports.ask(("db", n), gates[n]) for n in range(workers)]
    assert all(gate.started.wait(5) for gate in gates[:workers])    # being made: the others wait
    jobs += [reports.ask(("db", n), gate) for n, gate in enumerate(gates) if n >= workers]
    assert [reports.ahead(job) for job in jobs] == [0] * workers + [
        workers + n for n in range(report_jobs.MAX_WAITING)]
    with pytest.raises(Busy):
        reports.ask(("db", "one more"), Gate())
    assert reports.ask(("db", workers + 1), Gate()) is jobs[workers + 1]   # asking again is fine
    for gate in gates:
        gate.opened.set()
    assert all(job.done.wait(5) for job in jobs)
    assert [job.result for job in jobs] == list(range(len(gates)))


def test_only_some_threads_wait_for_reports_the_others_stay_free():
    reports, gate = Reports(), Gate()
    job = reports.ask("slow", gate)
    waited: list[bool | None] = []
    waiters = [threading.Thread(target=lambda: waited.append(reports.wait(job, 10)))
               for _ in range(report_jobs.THREADS_WAITING)]
    for waiter in waiters:
        waiter.start()
    assert gate.started.wait(5)
    # Once they all wait, one more thread would not: it is told so at once.
    wait_until(lambda: reports.wait(job, 0) is None, 5, what="every permit taken")
    gate.opened.set()
    for waiter in waiters:
        waiter.join(5)
    assert waited == [True] * report_jobs.THREADS_WAITING
    assert reports.wait(job, 10) is True     # made: nothing to wait for


def test_a_report_that_fails_tells_its_askers_and_the_next_one_is_still_made():
    reports, bad, good = Reports(), Gate(answer=ValueError("broken journal")), Gate()
    failed, after = reports.ask("bad", bad), reports.ask("good", good)
    bad.opened.set()
    good.opened.set()
    assert failed.done.wait(5) and after.done.wait(5)
    assert isinstance(failed.error, ValueError) and failed.result is None
    assert (after.error, after.result) == (None, "made")


def test_a_made_report_is_kept_for_its_page_then_let_go(monkeypatch):
    now = [1000.0]
    reports = Reports(clock=lambda: now[0])
    gate = Gate()
    gate.opened.set()
    job = reports.ask("key", gate)
    assert job.done.wait(5)
    now[0] += report_jobs.KEEP_S - 1
    assert reports.find(job.id) is job
    now[0] += 2
    assert reports.find(job.id) is None
    assert reports.find("never-given") is None
    # At most KEEP_DONE made reports are kept, the oldest let go first.
    kept = []
    for n in range(report_jobs.KEEP_DONE + 2):
        kept.append(reports.ask(("key", n), gate))
        assert kept[-1].done.wait(5)
        now[0] += 1
    assert [reports.find(j.id) is j for j in kept] == [False, False] + [True] * report_jobs.KEEP_DONE
