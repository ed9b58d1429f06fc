"""The process that runs ONNX graphs for the explorer, behind aecore.models.onnx_sandbox, which
starts it as a script by path (`python -I onnx_worker.py FD_IN FD_OUT FD_SHARED SLOT_BYTES
MEMORY_BYTES`): it imports numpy and onnxruntime, never aecore, torch or the server's environment.

Before it reads any request it limits itself: no core files, no file writes, and an address
space of what it has after its imports plus MEMORY_BYTES. Each run also gets a CPU-time limit
(the parent's wall-clock timeout is the other fence): past it the kernel ends the process.

Messages, both ways, are frames: a 4-byte big-endian length, a JSON header, then header["bytes"]
bytes of payload. Requests: {"op": "load", "name", "bytes", "threads"} + a graph with no external
data; {"op": "run", "name", "shape", "cpu_seconds", "max_values"}, its float32 input (C order) at
the start of the shared memory FD_SHARED. Replies: first, unasked, {"ok": true, "ready": true} once
the imports are done and the limits set; {"ok": true} to a load; {"ok": true, "shape"} to a run,
its float32 output at byte SLOT_BYTES of the shared memory; {"ok": false, "error", "memory"}.
"""
import json
import math
import mmap
import os
import re
import resource
import struct
import sys

MAX_HEADER = 1 << 16  # a request's JSON header: a few hundred bytes


def read_exact(fd: int, n: int) -> bytes:
    parts, left = [], n
    while left:
        part = os.read(fd, min(left, 1 << 20))
        if not part:
            raise EOFError("the server closed the pipe")
        parts.append(part)
        left -= len(part)
    return b"".join(parts)


def read_frame(fd: int) -> tuple[dict, bytes]:
    (size,) = struct.unpack(">I", read_exact(fd, 4))
    if size > MAX_HEADER:
        raise EOFError("a header over its limit")
    header = json.loads(read_exact(fd, size))
    return header, read_exact(fd, int(header.get("bytes", 0)))


def write_frame(fd: int, header: dict, payload=b"") -> None:
    text = json.dumps(dict(header, bytes=len(payload))).encode()
    for chunk in (struct.pack(">I", len(text)) + text, payload):
        view = memoryview(chunk).cast("B")
        while view:
            view = view[os.write(fd, view):]


def limit_self(memory: int) -> None:
    """No core files, no file writes, and at most `memory` bytes more address space from here
    (on Linux: macOS reserves gigabytes of address space it never uses, and enforces no such limit)."""
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    resource.setrlimit(resource.RLIMIT_FSIZE, (0, 0))
    try:
        with open("/proc/self/statm") as f:
            used = int(f.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")
    except OSError:
        return
    resource.setrlimit(resource.RLIMIT_AS, (used + memory, used + memory))


def cpu_used() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def first_line(e: BaseException) -> str:
    """onnxruntime's message on one line, without its error code and source locations."""
    text = re.sub(r"\[ONNXRuntimeError\] : \d+ : \w+ : ", "", " ".join(str(e).split()))
    text = re.sub(r"/\S+\.(cc|h|cpp):\d+ [^(]*\([^)]*\) ", "", text)
    return text[:300] or type(e).__name__


class Worker:
    def __init__(self, ort, np, shared: mmap.mmap, slot: int):
        self.ort, self.np, self.sessions, self.shared, self.slot = ort, np, {}, shared, slot

    def load(self, header: dict, payload: bytes) -> tuple[dict, bytes]:
        options = self.ort.SessionOptions()
        options.log_severity_level = 3  # errors only: they reach the user through the reply
        options.inter_op_num_threads = 1
        options.intra_op_num_threads = int(header.get("threads", 0))
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")  # idle threads sleep
        session = self.ort.InferenceSession(payload, options, providers=["CPUExecutionProvider"])
        self.sessions[header["name"]] = session
        return {"ok": True}, b""

    def run(self, header: dict, payload: bytes) -> tuple[dict, bytes]:
        np, session = self.np, self.sessions[header["name"]]
        shape = [int(d) for d in header["shape"]]
        x = np.frombuffer(self.shared, np.float32, count=math.prod(shape)).reshape(shape)
        # the kernel ends the process (SIGXCPU) once this run has used cpu_seconds of CPU time
        soft = math.ceil(cpu_used() + float(header["cpu_seconds"]))
        resource.setrlimit(resource.RLIMIT_CPU, (soft, resource.RLIM_INFINITY))
        out = session.run([session.get_outputs()[0].name], {session.get_inputs()[0].name: x})[0]
        if not isinstance(out, np.ndarray) or out.dtype.kind != "f":
            kind = out.dtype if isinstance(out, np.ndarray) else type(out).__name__
            return {"ok": False, "error": f"its output holds {kind} values, not floats"}, b""
        if out.size > int(header["max_values"]):
            return {"ok": False, "error": f"its output has shape {list(out.shape)}, {out.size:,} values "
                                          f"for {len(x)} inputs", "shape": list(out.shape)}, b""
        np.frombuffer(self.shared, np.float32, count=out.size, offset=self.slot)[:] = out.ravel()
        return {"ok": True, "shape": list(out.shape)}, b""


def serve(fd_in: int, fd_out: int, worker: Worker) -> None:
    while True:
        try:
            header, payload = read_frame(fd_in)
        except EOFError:
            return
        try:
            reply = getattr(worker, header["op"])(header, payload) if header.get("op") in ("load", "run") \
                else ({"ok": False, "error": f"unknown request {header.get('op')!r}"}, b"")
        except MemoryError as e:
            reply = {"ok": False, "error": f"out of memory ({first_line(e)})", "memory": True}, b""
        except Exception as e:  # noqa: BLE001 -- onnxruntime raises its own types; each becomes a reply
            text = first_line(e)
            reply = {"ok": False, "error": text, "memory": "alloc" in text.lower()}, b""
        payload = None  # the request's bytes are not needed while the reply is written
        write_frame(fd_out, *reply)


def main(argv: list[str]) -> int:
    fd_in, fd_out, fd_shared, slot, memory = (int(a) for a in argv[1:6])
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    import numpy as np
    import onnxruntime as ort
    shared = mmap.mmap(fd_shared, 2 * slot)
    os.close(fd_shared)
    limit_self(memory)
    write_frame(fd_out, {"ok": True, "ready": True})
    serve(fd_in, fd_out, Worker(ort, np, shared, slot))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
