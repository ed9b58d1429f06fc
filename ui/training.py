"""The server's one training at a time: a background thread runs aecore.train.train and saves
the checkpoint; further requests wait in line and start by themselves, in order. The Train page
submits, watches (a Job's `view()`, a copy taken under the lock) and stops.

Plain Python except `trainer()`, the one Trainer of the server process (st.cache_resource). The
training thread yields to page views: one intra-op torch thread of its own per two cores (torch's
thread count is per thread) and a lower scheduling priority (Linux nice 10, for that thread only).
"""
from __future__ import annotations

import atexit
import copy
import functools
import itertools
import logging
import math
import os
import shutil
import threading
import time
from collections import deque
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import streamlit as st
import torch

from aecore.checkpoint.names import check_name
from aecore.config import ModelConfig, TrainConfig
from aecore.data import DataError, split_size
from aecore.measure.evaluate import evaluate
from aecore.train import Recorder, TrainingError, TrainingStopped, save_result, split_sizes, train

log = logging.getLogger("aecore.app")
MAX_WAITING = 4        # requests in line behind the running one
EVAL_TEST = 1000       # test images metrics.json is measured on (seconds, not minutes, on full MNIST)
KEEP_FINISHED = 64     # finished jobs remembered (one per session) for their page to show
NICE = 10
JOB_IDS = itertools.count(1)  # unique in the process, even across Trainers (the figure cache's key)


class Busy(RuntimeError):
    """The line is full (or this session already has a training); the message says what to do."""


@dataclass(frozen=True)
class Request:
    model: ModelConfig
    training: TrainConfig
    name: str      # the checkpoint folder's name
    folder: Path   # saved as folder / name
    owner: str     # the session that asked (ui.checkpoints.session_id)
    seconds: float | None = None  # the most training time it may take (the demo's), then it stops


@dataclass
class Job:
    request: Request
    id: int
    state: str = "queued"   # queued | running | measuring | saved | failed
    epoch: int = 0          # epochs finished
    batch: int = 0          # batches done in the running epoch
    batches: int = 0        # batches per epoch
    running_loss: float = math.nan  # mean loss of the running epoch's batches so far
    history: list[dict] = field(default_factory=list)  # train()'s per-epoch records
    maps: list[np.ndarray] = field(default_factory=list)  # (n, 2) map of the subset after each epoch
    index: np.ndarray | None = None   # the subset's indices in the test split
    labels: np.ndarray | None = None  # and their labels
    stopped: bool = False   # a stop ended it (the last finished epoch was kept)
    timed_out: bool = False  # the request's time ran out (the last finished epoch was kept)
    discard: bool = False   # its session ended: whatever it trains is thrown away, not saved
    error: str = ""
    path: Path | None = None  # the saved checkpoint
    seconds: float = 0.0      # training time
    stop: threading.Event = field(default_factory=threading.Event, repr=False)

    @property
    def finished(self) -> bool:
        return self.state in ("saved", "failed")

    def view(self) -> "Job":
        """A copy whose lists the training thread no longer appends to."""
        out = copy.copy(self)
        out.history, out.maps = list(self.history), list(self.maps)
        return out


def batches_per_epoch(training: TrainConfig) -> int:
    """Training batches per epoch, as aecore.train.split_train_val and the batch samplers count."""
    n_train, _ = split_sizes(split_size(training.dataset, "train"), training)
    return math.ceil(n_train / training.batch_size)


def yield_to_page_views() -> None:
    """For the calling thread only: fewer torch threads and a priority NICE steps lower than the
    server's (at most 19: under `nice -n 19` everything shares one priority)."""
    torch.set_num_threads(max(1, (os.cpu_count() or 2) // 2))
    try:
        tid = threading.get_native_id()
        os.setpriority(os.PRIO_PROCESS, tid, min(19, os.getpriority(os.PRIO_PROCESS, tid) + NICE))
    except (AttributeError, OSError):  # not Linux: the thread count alone
        pass


class Trainer:
    """Runs one Job at a time; the others wait in line (FIFO)."""

    def __init__(self):
        self.lock = threading.Lock()
        self.current: Job | None = None
        self.waiting: deque[Job] = deque()
        self.latest: dict[str, Job] = {}  # owner -> that session's newest job
        self.thread: threading.Thread | None = None

    def submit(self, request: Request) -> Job:
        """Start `request` now if the server is free, else put it in line."""
        check_name(request.name)
        with self.lock:
            mine = self.latest.get(request.owner)
            if mine is not None and not mine.finished:
                raise Busy("this session already has a training running or waiting: stop it first")
            if self.current is not None and len(self.waiting) >= MAX_WAITING:
                raise Busy(f"{MAX_WAITING} trainings are already waiting: try again in a few minutes")
            target = request.folder / request.name
            if any(j.request.folder / j.request.name == target for j in self._unfinished()):
                raise Busy(f"another training will save a checkpoint named {request.name}: pick another name")
            job = Job(request, next(JOB_IDS))
            self._remember(job)
            if self.current is None:
                self._start(job)
            else:
                self.waiting.append(job)
            return job

    def _unfinished(self) -> list[Job]:  # with the lock held
        return ([self.current] if self.current else []) + list(self.waiting)

    def _remember(self, job: Job) -> None:
        self.latest.pop(job.request.owner, None)
        self.latest[job.request.owner] = job
        while len(self.latest) > KEEP_FINISHED:
            oldest = next((o for o, j in self.latest.items() if j.finished), None)
            if oldest is None:
                break
            del self.latest[oldest]

    def _start(self, job: Job) -> None:  # with the lock held
        self.current, job.state = job, "running"
        self.thread = threading.Thread(target=self._run, args=(job,), name=f"aecore-train-{job.id}", daemon=True)
        self.thread.start()

    def _run(self, job: Job) -> None:
        yield_to_page_views()
        try:
            self._train_and_save(job)
        except TrainingStopped:
            job.error = ("its browser tab closed: nothing was saved" if job.discard else
                         f"{self._why_stopped(job)} before the first epoch finished: nothing was saved")
        except (TrainingError, DataError, ValueError, OSError) as err:
            job.error = str(err)
        except Exception as err:  # noqa: BLE001 -- the page shows a message, the log the traceback
            log.exception("training %s failed", job.request.name)
            job.error = f"training failed ({type(err).__name__}: {err}); details are in the server log"
        finally:
            with self.lock:
                job.state = "failed" if job.error else "saved"
                self.current = None
                if self.waiting:
                    self._start(self.waiting.popleft())
            if job.discard:  # its session ended while it ran: nothing it made is kept
                shutil.rmtree(job.request.folder, ignore_errors=True)

    def _train_and_save(self, job: Job) -> None:
        r = job.request
        job.batches = batches_per_epoch(r.training)
        recorder = Recorder(r.training.dataset, every_epoch=True)  # the page redraws the map after each epoch
        job.index, job.labels = recorder.index, recorder.labels
        losses: list[float] = []
        deadline = time.monotonic() + r.seconds if r.seconds is not None else math.inf

        def on_batch(loss: float) -> None:
            losses.append(loss)
            job.batch, job.running_loss = len(losses), sum(losses) / len(losses)
            if time.monotonic() > deadline and not job.stop.is_set():  # the request's time is up
                job.timed_out = True
                job.stop.set()

        def on_epoch(record: dict) -> None:
            with self.lock:
                job.history.append(record)
                job.maps.append(recorder.maps[-1])
                job.epoch, job.batch = record["epoch"], 0
            losses.clear()

        result = train(r.model, r.training, on_epoch=on_epoch, on_batch=on_batch, recorder=recorder, stop=job.stop)
        if job.discard:
            raise TrainingStopped("its browser tab closed: nothing was saved")
        job.stopped, job.seconds, job.state = result.stopped, result.seconds, "measuring"
        metrics = evaluate(result.model, r.training.dataset, max_test=EVAL_TEST)
        epochs = len(result.history)
        about = {"title": r.name, "purpose": f"trained on the Train page: {epochs} epoch{'s' * (epochs != 1)} "
                 f"on {r.training.dataset}, seed {r.training.seed}{' (stopped early)' if result.stopped else ''}"}
        job.path = save_result(r.folder / r.name, result, r.training, metrics, about)

    @staticmethod
    def _why_stopped(job: Job) -> str:
        return f"the demo's time limit ({job.request.seconds:.0f} s) ended it" if job.timed_out else "stopped"

    def end_session(self, owner: str, folder: Path | None = None) -> None:
        """The session `owner` ended (its tab is gone). Its training waiting in line is cancelled.
        Given its own checkpoint `folder` (the demo's, which goes with the session), its running
        training is stopped and thrown away and the folder deleted, now or once that training has
        stopped; elsewhere a running training goes on and is saved where every visitor sees it."""
        with self.lock:
            job = self.latest.pop(owner, None)
            running = job is not None and job is self.current
            if job is not None and job in self.waiting:
                self.waiting.remove(job)
                job.state, job.error = "failed", "its browser tab closed before it started"
            if running and folder is not None:
                job.discard = True
                job.stop.set()
        if folder is not None and not running:
            shutil.rmtree(folder, ignore_errors=True)

    def stop(self, owner: str) -> None:
        """Stop this session's training (it keeps the last finished epoch), or leave the line."""
        with self.lock:
            job = self.latest.get(owner)
            if job is None or job.finished:
                return
            if job.state == "queued":
                self.waiting.remove(job)
                job.state, job.error = "failed", "left the line before it started"
            job.stop.set()

    def dismiss(self, owner: str) -> None:
        """Forget this session's finished job (its page shows the form again)."""
        with self.lock:
            if owner in self.latest and self.latest[owner].finished:
                del self.latest[owner]

    def mine(self, owner: str) -> Job | None:
        """A view of this session's newest job, or None."""
        with self.lock:
            job = self.latest.get(owner)
            return job.view() if job else None

    def line(self) -> tuple[Job | None, list[str]]:
        """(a view of the running job or None, the owners waiting, first in line first)."""
        with self.lock:
            return (self.current.view() if self.current else None), [j.request.owner for j in self.waiting]

    def join(self, timeout: float = 60) -> None:
        """Wait until nothing runs or waits (for tests and shutdown)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.lock:
                thread, idle = self.thread, self.current is None and not self.waiting
            if idle:
                return
            if thread is not None:
                thread.join(max(0.0, deadline - time.monotonic()))
        raise TimeoutError(f"training still running after {timeout:g} s")


@st.cache_resource(show_spinner=False)
def trainer() -> Trainer:
    """The server's Trainer, shared by every session."""
    return Trainer()


_session_folders: set[Path] = set()  # the demo's per-session checkpoint folders of this process, for the exit


def watch_session(owner: str, folder: Path | None) -> None:
    """In every run of the Train page: when this tab is gone for good (ui/tabs: closed, not just
    reconnecting), its training waiting in line is cancelled; with `folder` (the demo's
    per-session checkpoints; None elsewhere) its running one is thrown away and the folder
    deleted (Trainer.end_session)."""
    from ui import tabs
    if folder is not None:
        _session_folders.add(folder)
    tabs.when_gone(f"train-{owner}", functools.partial(_session_ended, trainer(), owner, folder))


def _session_ended(trainer_: Trainer, owner: str, folder: Path | None) -> None:
    trainer_.end_session(owner, folder)
    _session_folders.discard(folder)


@atexit.register
def _remove_session_folders() -> None:  # on_release is not called when the server stops
    for folder in list(_session_folders):
        shutil.rmtree(folder, ignore_errors=True)
