"""Long runs off the page's thread: a progress bar, a Stop button, and a session that stays usable.

A page asks for a result with :func:`run` (a slot name, a signature of what is asked, and ``work(progress)``). The
work runs in a thread; ``progress(done, total, note)`` reports and raises :class:`Stopped` once the Stop button was
pressed, so the run ends at its next batch. A short run is simply waited for; a long one shows its progress and a
Stop button while the page waits for it. A click (Stop, or any other control) interrupts the page's wait, not the
run: the next page run finds the same run and follows it again (or stops it). Nothing is shared between sessions:
the runs live in this session's state. A stopped run changes nothing: what was shown before stays (``keep``).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import streamlit as st

POLL_S = 0.25  # how often a running job's progress is redrawn
WAIT_S = 0.3  # a job finished within this is shown without a progress bar
BLOCK_S = 24 * 3600.0  # a page follows a run at most this long, then stops (tests shorten it to click Stop)


class Stopped(Exception):
    """The run was stopped by its Stop button."""


@dataclass
class Job:
    """One run: what it computes (``signature``), its progress, and its outcome once ``finished`` is set."""

    signature: Any
    label: str
    stop: threading.Event = field(default_factory=threading.Event)
    finished: threading.Event = field(default_factory=threading.Event)
    done: int = 0
    total: int = 0
    note: str = ""
    result: Any = None
    error: BaseException | None = None
    started: float = field(default_factory=time.perf_counter)

    def progress(self, done: int, total: int | None = None, note: str = "") -> None:
        """Report progress; raises :class:`Stopped` when the Stop button was pressed."""
        self.total = self.total if total is None else total  # known even when the run stops here
        if self.stop.is_set():
            raise Stopped(self.label)
        self.done = done
        self.note = note or self.note

    def fraction(self) -> float:
        return min(1.0, self.done / self.total) if self.total else 0.0

    @property
    def stopped(self) -> bool:
        return isinstance(self.error, Stopped)


def _start(job: Job, work: Callable[[Callable], Any]) -> None:
    def target():
        try:
            job.result = work(job.progress)
        except BaseException as exc:  # handed to the page that asked (Stopped included)
            job.error = exc
        finally:
            job.finished.set()

    threading.Thread(target=target, name=f"dnalens-job-{job.label[:40]}", daemon=True).start()


def _jobs() -> dict:
    return st.session_state.setdefault("_jobs", {})


def _kept() -> dict:
    """slot -> (signature, result) of the slot's last run that finished."""
    return st.session_state.setdefault("_jobs_kept", {})


def kept(slot: str) -> tuple | None:
    """(signature, result) of the slot's last run that finished (what a stopped run leaves shown), if any."""
    return _kept().get(slot)


def current(slot: str) -> Job | None:
    """The slot's latest run (running or finished), if any."""
    return _jobs().get(slot)


def forget(slot: str) -> None:
    """Drop the slot's finished run (its result was taken)."""
    job = _jobs().get(slot)
    if job is not None and job.finished.is_set():
        del _jobs()[slot]


def stop(slot: str) -> None:
    """Ask the slot's run to stop at its next progress report."""
    job = current(slot)
    if job is not None:
        job.stop.set()


def run(
    slot: str, signature, work: Callable[[Callable], Any], label: str, *, keep: bool = False, wait=WAIT_S, page=True
):
    """The result of ``work(progress)`` for ``signature``; ``progress(done, total=None, note="")``.

    Done before (this signature): returned at once. Done within ``wait`` seconds: returned. Still running: its
    progress and a Stop button are drawn here while the page waits. Stopped: a note and a button to run it again;
    with ``keep`` the slot's previous result is returned (the page shows what it showed before), else the page
    stops (``page=False``: None is returned instead, so the rest of the page is drawn). A failed run raises its
    error (and is tried again on the next rerun).
    """
    jobs = _jobs()
    job = jobs.get(slot)
    if job is not None and job.signature != signature:
        job.stop.set()  # asked for something else: the old run is not wanted any more
        job = None
    if job is None:
        job = jobs[slot] = Job(signature, label)
        _start(job, work)
    if not job.finished.wait(wait):
        _follow(slot, job)
    if job.error is None:
        _kept()[slot] = (signature, job.result)
        return job.result
    if not job.stopped:
        del jobs[slot]
        raise job.error
    return _stopped(slot, job, keep, page)


def _text(job: Job) -> str:
    what = f"{job.done}/{job.total}" if job.total else "starting"
    seconds = time.perf_counter() - job.started
    stopping = "Stopping ... " if job.stop.is_set() else ""
    return f"{stopping}{job.label}: {what}{' · ' + job.note if job.note else ''} · {seconds:.0f} s"


def _follow(slot: str, job: Job) -> None:
    """Progress and the Stop button while ``job`` runs; returns once it finished (or stops the page after
    ``BLOCK_S``)."""
    box = st.empty()
    c1, c2 = box.container().columns([5, 1])
    if c2.button("Stop", key=f"job_stop_{slot}", type="primary", width="stretch", help="stop this run; "
                 "what is loaded and shown stays as it was"):  # fmt: skip
        job.stop.set()
    bar = c1.progress(job.fraction(), text=_text(job))
    t0 = time.perf_counter()
    while not job.finished.wait(POLL_S):
        bar.progress(job.fraction(), text=_text(job))  # a click elsewhere interrupts the page here, not the run
        if time.perf_counter() - t0 > BLOCK_S:
            st.caption("Still running: rerun the page (R) to follow it.")
            st.stop()
    box.empty()


def _stopped(slot: str, job: Job, keep: bool, page: bool = True):
    c1, c2 = st.columns([4, 1])
    c1.info(f"Stopped: {job.label} ({job.done}/{job.total or '?'} done). Nothing else changed.")
    if c2.button("Run again", key=f"job_again_{slot}"):
        del _jobs()[slot]
        st.rerun()
    previous = _kept().get(slot)
    if keep and previous is not None:
        st.caption("Below: the previous result, for the settings it was computed with.")
        return previous[1]
    if page:
        st.stop()
    return None
