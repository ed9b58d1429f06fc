"""Slow work in the background, shared by every session: a UMAP or t-SNE map of many codes, or
the pixel neighbours of a large set, runs in a worker process (aecore.latent.worker) and lands
in the disk cache (aecore.cache), while the page says before it starts what it will cost (an
estimate from the point count: aecore.latent.cost), then shows its progress and a Cancel button.
A cancelled worker is killed, and leaves nothing in the cache.

Work that is expected to take under BACKGROUND_S seconds in this process is simply done on the
spot (its spinner is brief). One job per result (the digest of its cache key): a second
session asking for the same map watches the same job. At most MAX_RUNNING jobs run at once
(AECORE_JOBS, default half the CPU cores, at least 1); the others wait in line and start by
themselves. A page asks `ready([work, ...], key)`: True when everything it needs can be had now,
else it draws the jobs' panel (a fragment that redraws itself every POLL_S seconds while a job
runs, and the whole page when one ends) and returns False.
"""
from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
import streamlit as st

from aecore import cache
from aecore.latent import worker
from aecore.latent.cost import duration

POLL_S = 1.0
ACTIVE = ("queued", "running")
KEEP_FINISHED = 64  # finished jobs remembered (their outcome shown to whoever asks again)


def background_s() -> float:
    """Work expected to take longer than this (seconds; AECORE_BACKGROUND_S, default 5) runs in
    the background."""
    return float(os.environ.get("AECORE_BACKGROUND_S") or 5)


def max_running() -> int:
    return max(1, int(os.environ.get("AECORE_JOBS") or (os.cpu_count() or 2) // 2))


@dataclass(frozen=True)
class Work:
    """One slow array: its cache key, what the worker runs to make it, and what it costs."""
    key: dict                  # the result's disk-cache key (aecore.cache)
    task: dict                 # the worker's task without the key (aecore.latent.worker.TASKS)
    title: str                 # what it is, for people: "UMAP of 10,000 16-D codes"
    estimate: float            # seconds in a fresh worker (aecore.latent.cost.seconds)
    here: float                # seconds in this process, which may have its imports done already
    inputs: Callable[[], np.ndarray] = field(compare=False)  # the array the worker reads

    @property
    def digest(self) -> str:
        return cache.key_digest(self.key)

    def available(self) -> bool:
        """It can be had now: cached on disk, or cheap enough to compute on the spot (also when
        no cache folder can be written, so no worker could hand it over)."""
        path = cache.entry(self.key)
        return path is None or path.is_file() or self.here < background_s()


class Job:
    """One run of a Work in a worker process. state: queued, running, done, failed, cancelled."""

    def __init__(self, work: Work, folder: Path):
        self.work, self.folder = work, folder
        self.state, self.error = "queued", ""
        self.process: subprocess.Popen | None = None
        self.started = self.ended = None
        self.cancelling = False

    def seconds(self) -> float:
        """Seconds it has run (0 while queued)."""
        if self.started is None:
            return 0.0
        return (self.ended or time.monotonic()) - self.started

    def report(self) -> dict:
        """The worker's last progress report {phase, done, total, seconds}, or {} before its first."""
        try:
            with open(self.folder / "progress.jsonl", "rb") as f:
                lines = f.read().splitlines()
            return json.loads(lines[-1]) if lines else {}
        except (OSError, ValueError):  # not yet written, or a line being written
            return {}


class Jobs:
    """Every session's jobs in this server process (one instance: jobs())."""

    def __init__(self):
        self.lock = threading.Lock()
        self.jobs: dict[str, Job] = {}

    def get(self, digest: str) -> Job | None:
        return self.jobs.get(digest)

    def running(self) -> int:
        return sum(j.state == "running" for j in self.jobs.values())

    def submit(self, work: Work) -> Job:
        """The job making `work`'s result: the one already queued or running, else a new one."""
        with self.lock:
            job = self.jobs.get(work.digest)
            if job is not None and job.state in ACTIVE:
                return job
            folder = cache.cache_dir().parent / "jobs" / work.digest
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            np.save(folder / "input.npy", work.inputs(), allow_pickle=False)
            (folder / "task.json").write_text(json.dumps({**work.task, "key": work.key, "estimate": work.estimate}))
            self.jobs[work.digest] = job = Job(work, folder)
            self._forget_old()
            self._next()
        return job

    def cancel(self, digest: str) -> None:
        """Stop the job: out of the line, or its worker killed (nothing is cached)."""
        with self.lock:
            job = self.jobs.get(digest)
            if job is None or job.state not in ACTIVE:
                return
            job.cancelling = True
            if job.state == "queued":
                self._finish(job, "cancelled")
            elif job.process is not None:
                try:
                    os.killpg(job.process.pid, signal.SIGKILL)  # the worker and any child of it
                except ProcessLookupError:
                    pass

    def _next(self) -> None:
        """Start queued jobs, oldest first, while fewer than max_running() run (lock held)."""
        for job in list(self.jobs.values()):
            if job.state == "queued" and self.running() < max_running():
                self._start(job)

    def _start(self, job: Job) -> None:
        with open(job.folder / "log.txt", "wb") as log:
            job.process = worker.start(job.folder, log, worker.threads(max_running()))
        job.state, job.started = "running", time.monotonic()
        threading.Thread(target=self._watch, args=(job,), daemon=True, name=f"job-{job.work.digest[:8]}").start()

    def _watch(self, job: Job) -> None:
        code = job.process.wait()
        with self.lock:
            if job.cancelling:
                self._finish(job, "cancelled")
            elif code == 0 and job.work.available():
                self._finish(job, "done")
            else:
                self._finish(job, "failed", _why(job.folder, code))
            self._next()

    def _finish(self, job: Job, state: str, error: str = "") -> None:
        job.state, job.error, job.ended = state, error, time.monotonic()
        shutil.rmtree(job.folder, ignore_errors=True)

    def _forget_old(self) -> None:
        finished = [d for d, j in self.jobs.items() if j.state not in ACTIVE]
        for digest in finished[:max(0, len(finished) - KEEP_FINISHED)]:
            del self.jobs[digest]


def _why(folder: Path, code: int) -> str:
    """The worker's own account of its failure, else the end of its log, else its exit status."""
    for name in ("error.txt", "log.txt"):
        try:
            text = (folder / name).read_text(errors="replace").strip()
        except OSError:
            continue
        if text:
            return text.splitlines()[-1][:300]
    return f"the worker stopped with exit status {code}"


@st.cache_resource(show_spinner=False)
def jobs() -> Jobs:
    """The server's one Jobs, shared by every session."""
    return Jobs()


def ready(works: list[Work], key: str) -> bool:
    """True when every work's result can be had now; else draws the panel of those that cannot
    (what each costs and a button to start it, or its progress and Cancel) and returns False.
    `key` names the panel's widgets (two panels on one page need two keys)."""
    pending = [w for w in works if not w.available()]
    if not pending:
        return True
    st.session_state[f"_{key}_jobs"] = signature = _signature(pending)
    active = any(state in ACTIVE for _, state in signature)
    st.fragment(_panel, run_every=POLL_S if active else None)(pending, key)
    return False


def _signature(pending: list[Work]) -> tuple:
    """What decides the page: each pending work's job state (None before any job)."""
    return tuple((w.digest, getattr(jobs().get(w.digest), "state", None)) for w in pending)


def _panel(pending: list[Work], key: str) -> None:
    if _signature(pending) != st.session_state.get(f"_{key}_jobs") or all(w.available() for w in pending):
        st.rerun()  # a job started, ended or was cancelled: the whole page changes
    for i, work in enumerate(pending):
        job = jobs().get(work.digest)
        if job is not None and job.state in ACTIVE:
            _progress(job, f"{key}_cancel_{i}")
            continue
        if job is not None and job.state == "cancelled":
            st.warning(f"{work.title}: cancelled after {job.seconds():.0f} s. Nothing was cached; "
                       "start it again, or pick another projection or fewer points.")
        elif job is not None and job.state == "failed":
            st.error(f"{work.title} failed: {job.error}")
        st.info(f"**{work.title}** takes {duration(work.estimate)} on this machine (an estimate from "
                "the number of points). It runs in the background: you can cancel it, and once done "
                "it is kept on disk for every later visit.")
        st.button(f"Compute it ({duration(work.estimate)})", key=f"{key}_start_{i}", type="primary",
                  on_click=jobs().submit, args=(work,))


def _progress(job: Job, key: str) -> None:
    """A queued job's place, or a running one's bar: the worker's own count of its steps when
    it reports one (epochs, iterations, chunks), else the clock against the estimate (said so)."""
    work, report = job.work, job.report()
    if job.state == "queued":
        st.info(f"**{work.title}** ({duration(work.estimate)}) waits for a free worker: "
                f"{jobs().running()} running, at most {max_running()} at a time. It starts by itself.")
    elif report.get("total"):
        done, total = report["done"] or 0, report["total"]
        st.progress(min(done / total, 1.0), text=f"**{work.title}**: {report['phase']} {done:,} of {total:,}")
    else:
        phase = report.get("phase") or "Starting the worker"
        st.progress(min(job.seconds() / max(work.estimate, 1e-9), 0.99),
                    text=f"**{work.title}**: {phase}… (this bar follows the clock against the estimate)")
    if job.state == "running":
        st.caption(f"{job.seconds():.0f} s so far; estimated {duration(work.estimate)} in all.")
    st.button("Cancel", key=key, on_click=jobs().cancel, args=(work.digest,))
