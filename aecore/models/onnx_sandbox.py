"""ONNX graphs run in a worker process with limits (onnx_worker.py), never in the server: an
uploaded graph is a program, and the worker bounds what it can cost. Every ONNX model, shipped or
uploaded, runs this way: one rule, and a folder copied into checkpoints/ is as untrusted as an upload.

- Time: each request (creating a session, or one run of at most a graph's `rows` inputs, which
  it finds, and leaves its output, in memory shared with the server) has
  CALL_SECONDS of wall clock, after which the parent kills the worker, and a run CPU_SECONDS of
  CPU time, after which the kernel does.
- Memory: the worker's address space is what it has after its imports plus MEMORY_BYTES.
- Files: the graphs arrive as bytes with every weight inside (onnx_files.py refuses the rest);
  the worker runs in a folder deleted as it starts, with no environment but a few thread
  settings, and may write no file.

A model whose graph breaks a limit is stopped and answers every later call with the same error
at once; its worker is gone. At most MAX_LIVE workers run at once: the least recently used idle
one is stopped (and restarted by its next call) when another starts. A model's worker stops when
the model is garbage collected, and at exit.
"""
from __future__ import annotations

import contextlib
import json
import mmap
import os
import select
import struct
import subprocess
import sys
import tempfile
import threading
import time
import weakref
from collections import OrderedDict
from pathlib import Path

try:
    import fcntl
except ImportError:  # Windows, where the worker cannot run (see Sandbox._started)
    fcntl = None

import numpy as np

from ..checkpoint import CheckpointError
from . import onnx_refusals as refusals

CALL_SECONDS = 30.0      # wall clock of one request: a run of 1,024 digits (or 85 128x128 colour images) takes
                         # milliseconds to a second
CPU_SECONDS = 60.0       # CPU time of one run, all of its threads together (two cores for CALL_SECONDS)
MEMORY_BYTES = 2 * 2**30  # address space a worker may add to its imports: 8x the largest tensor a graph may plan
MAX_LIVE = 4             # workers at once (each ~60 MB resident); an idle one is restarted in about half a second
WORKER = Path(__file__).with_name("onnx_worker.py")
MAX_REPLY_HEADER = 1 << 16
SLOT_BYTES = 16 * 2**20  # a run's input, and its output, in memory shared with the worker: 4,096 x 1,024 floats,
                         # so a graph made for a fixed batch of up to 85 images of 3 x 128 x 128 runs (4 MB: 21)
PIPE_BYTES = 1 << 20     # a graph sent to the worker in 1 MB writes (/proc/sys/fs/pipe-max-size)
# the worker's whole environment: one BLAS thread (onnxruntime has its own), fewer malloc arenas, and
# where a Python built elsewhere finds its libraries
ENV = {"PATH": os.defpath, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1", "MKL_NUM_THREADS": "1",
       "MALLOC_ARENA_MAX": "2", **{k: os.environ[k] for k in ("LD_LIBRARY_PATH",) if k in os.environ}}

_live: OrderedDict[int, weakref.ref] = OrderedDict()  # id(sandbox) -> sandbox, least recently used first
_live_lock = threading.Lock()


class Breach(Exception):
    """A request that ended its worker: too slow, too hungry, or a crash."""


class _Process:
    """One running worker: its process, the two pipe ends the server holds, the memory they share."""

    def __init__(self):
        folder = tempfile.mkdtemp(prefix="aecore-onnx-")
        req_r, self.req_w = os.pipe()
        self.rep_r, rep_w = os.pipe()
        shared_fd = _shared_file()  # inputs and outputs: no copy through a pipe
        try:
            os.ftruncate(shared_fd, 2 * SLOT_BYTES)
            self.shared = mmap.mmap(shared_fd, 2 * SLOT_BYTES)
            self.popen = subprocess.Popen(
                [sys.executable, "-I", str(WORKER), str(req_r), str(rep_w), str(shared_fd), str(SLOT_BYTES),
                 str(MEMORY_BYTES)],
                pass_fds=(req_r, rep_w, shared_fd), stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL, cwd=folder, env=ENV, start_new_session=True)
        finally:
            for fd in (req_r, rep_w, shared_fd):
                os.close(fd)
            os.rmdir(folder)  # the worker runs in a folder that no longer exists: nothing to find, nothing left
        os.set_blocking(self.req_w, False)
        for fd in (self.req_w, self.rep_r):
            with contextlib.suppress(OSError, AttributeError):  # Linux only
                fcntl.fcntl(fd, fcntl.F_SETPIPE_SZ, PIPE_BYTES)
        self._finalizer = weakref.finalize(self, _kill, self.popen, (self.req_w, self.rep_r), self.shared)

    def stop(self) -> None:
        self._finalizer()

    def request(self, header: dict, payload, seconds: float) -> tuple[dict, bytes]:
        """Send a frame and read the reply within `seconds`; Breach when the worker is gone or late."""
        deadline = time.monotonic() + seconds
        payload = memoryview(payload).cast("B")
        text = json.dumps(dict(header, bytes=payload.nbytes)).encode()
        self._write(memoryview(struct.pack(">I", len(text)) + text), deadline)
        self._write(payload, deadline)
        return self.reply(header.get("max_values", 0), deadline)

    def reply(self, max_values: int, deadline: float) -> tuple[dict, bytes]:
        """The worker's next frame, by `deadline`, with at most `max_values` floats of payload."""
        (size,) = struct.unpack(">I", self._read(4, deadline))
        if size > MAX_REPLY_HEADER:
            raise Breach("a reply header over its limit")
        try:
            reply = json.loads(self._read(size, deadline))
            n = int(reply.get("bytes", 0))
        except (ValueError, TypeError, AttributeError):
            raise Breach("a reply that is not JSON") from None
        if not 0 <= n <= max_values * 4:
            raise Breach("a reply over its limit")
        return reply, self._read(n, deadline)

    def _write(self, view: memoryview, deadline: float) -> None:
        while view:
            if not select.select([], [self.req_w], [], max(0.0, deadline - time.monotonic()))[1]:
                raise Breach("timeout")
            try:
                view = view[os.write(self.req_w, view):]
            except BrokenPipeError:
                raise Breach("gone") from None

    def _read(self, n: int, deadline: float) -> bytes:
        parts, left = [], n
        while left:
            if not select.select([self.rep_r], [], [], max(0.0, deadline - time.monotonic()))[0]:
                raise Breach("timeout")
            part = os.read(self.rep_r, min(left, 1 << 20))
            if not part:
                raise Breach("gone")
            parts.append(part)
            left -= len(part)
        return b"".join(parts)


def _shared_file() -> int:
    """A descriptor of an anonymous file: memfd on Linux, an unlinked temporary file elsewhere."""
    if hasattr(os, "memfd_create"):
        return os.memfd_create("aecore-onnx")
    with tempfile.TemporaryFile() as f:
        return os.dup(f.fileno())


def _kill(popen: subprocess.Popen, fds: tuple[int, ...], shared: mmap.mmap) -> None:
    if popen.poll() is None:
        popen.kill()
    popen.wait()
    for fd in fds:
        os.close(fd)
    shared.close()


class Sandbox:
    """The worker of one model: its graphs {name: (file, serialized graph)} loaded in one
    process, started on the first call and again after an idle stop."""

    def __init__(self, graphs: dict[str, tuple[Path, bytes]]):
        self.graphs = graphs
        self.images = "its images"  # what the messages of its limits speak of, e.g. "32x32 colour images"
        self.failed: str | None = None  # the error of the breach that stopped this model
        self._process: _Process | None = None
        self._lock = threading.Lock()

    def run(self, name: str, x: np.ndarray, max_values: int) -> np.ndarray:
        """The graph `name`'s first output for the float32 batch `x`, as float32; CheckpointError
        naming the graph's file when it fails, or breaks a limit (then for good)."""
        file, x = self.graphs[name][0], np.ascontiguousarray(x, np.float32)
        if x.nbytes > SLOT_BYTES or max_values * 4 > SLOT_BYTES:
            raise ValueError(f"{x.shape} in, {max_values:,} values out: more than one call takes")
        with self._lock:
            if self.failed:
                raise CheckpointError(self.failed)
            process = self._started()
            process.shared[:x.nbytes] = memoryview(x).cast("B")
            header = {"op": "run", "name": name, "shape": list(x.shape), "cpu_seconds": CPU_SECONDS,
                      "max_values": max_values}
            reply, _ = self._request(process, header, b"", file, len(x))
            shape = reply.get("shape")
            if not (isinstance(shape, list) and all(isinstance(d, int) and d >= 0 for d in shape)
                    and int(np.prod(shape)) <= max_values):
                raise CheckpointError(f"{file}: its worker sent an output that does not fit its own shape")
            out = process.shared[SLOT_BYTES:SLOT_BYTES + 4 * int(np.prod(shape))]  # a copy
        return np.frombuffer(out, np.float32).reshape(shape)

    def close(self) -> None:
        with self._lock:
            self._stop()

    def _started(self) -> _Process:
        if self._process is not None and self._process.popen.poll() is None:
            _touch(self)
            return self._process
        self._stop()
        if sys.platform == "win32":
            raise CheckpointError(f"{next(iter(self.graphs.values()))[0]}: ONNX graphs run in a worker process with "
                                  "limits, which needs Linux or macOS")
        _make_room(self)
        process = self._process = _Process()
        try:  # its imports done and its limits set: anything after this is the graphs' doing
            ready = process.reply(0, time.monotonic() + CALL_SECONDS)[0].get("ready")
        except Breach:
            ready = False
        if not ready:
            process.stop()
            self._stop()
            raise CheckpointError(f"{next(iter(self.graphs.values()))[0]}: the worker process that runs ONNX graphs "
                                  f"did not start ({refusals.signal_name(process.popen.returncode)}); check that "
                                  f"onnxruntime imports in {sys.executable}")
        for name, (file, graph) in self.graphs.items():
            self._request(process, {"op": "load", "name": name, "threads": 0}, graph, file, None)
        return process

    def _request(self, process: _Process, header: dict, payload, file: Path, n: int | None) -> tuple[dict, bytes]:
        try:
            reply, data = process.request(header, payload, CALL_SECONDS)
        except Breach as why:
            if str(why) != "timeout":
                process.stop()  # reaps it, so that its end can be told
            self.failed = refusals.breach_message(file, str(why), n, self.images, process.popen.returncode,
                                                  CALL_SECONDS, CPU_SECONDS, MEMORY_BYTES)
            self._stop()
            raise CheckpointError(self.failed) from None
        if not reply.get("ok"):
            message = refusals.error_message(file, reply, n, header.get("max_values", 0), MEMORY_BYTES)
            if reply.get("memory"):  # its memory may be in any state: this graph runs no more
                self.failed = message
                self._stop()
            raise CheckpointError(message)
        return reply, data

    def _stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
        with _live_lock:
            _live.pop(id(self), None)


def _touch(sandbox: Sandbox) -> None:
    with _live_lock:
        _live.pop(id(sandbox), None)
        _live[id(sandbox)] = weakref.ref(sandbox)


def _make_room(sandbox: Sandbox) -> None:
    """Stop the least recently used idle workers until another may start; then count this one."""
    with _live_lock:
        candidates = [(key, ref()) for key, ref in _live.items()]
    for key, other in candidates:
        if len(_live) < MAX_LIVE:
            break
        if other is None:
            with _live_lock:
                _live.pop(key, None)
        elif other is not sandbox and other._lock.acquire(blocking=False):
            try:
                other._stop()
            finally:
                other._lock.release()
    _touch(sandbox)


def live_workers() -> int:
    """How many worker processes run now."""
    with _live_lock:
        return sum(1 for ref in _live.values() if (s := ref()) is not None and s._process is not None)
