"""What a graph that breaks one of the sandbox's limits (onnx_sandbox.py) is told: which file,
doing what, past which limit, and what to do. The limits are passed in, read where they are set."""
from __future__ import annotations

import signal
from pathlib import Path


def doing(n: int | None) -> str:
    return "while onnxruntime prepared it" if n is None else f"on {n:,} input{'s' * (n != 1)}"


def breach_message(file: Path, why: str, n: int | None, images: str, code: int | None,
                   call_seconds: float, cpu_seconds: float, memory_bytes: int) -> str:
    """A worker stopped: past the wall clock ("timeout"), killed by the kernel for CPU time
    (exit `code` -SIGXCPU), ended otherwise ("gone": most likely memory), or sent nonsense."""
    if why == "timeout":
        return (f"{file}: took more than {call_seconds:g} s {doing(n)}, the limit for one call of a graph, and "
                f"was stopped; an encoder or decoder of {images} needs milliseconds")
    if code == -signal.SIGXCPU:
        return (f"{file}: used more than {cpu_seconds:g} s of CPU time {doing(n)}, the limit for one call of a "
                f"graph, and was stopped; an encoder or decoder of {images} needs milliseconds")
    if why != "gone":
        return f"{file}: its worker process sent {why} and was stopped"
    return (f"{file}: onnxruntime ended {doing(n)} ({signal_name(code)}), most likely past the "
            f"{memory_bytes / 2**30:g} GB of memory a graph may use; export a smaller model")


def signal_name(code: int | None) -> str:
    if code is not None and code < 0:
        return f"signal {signal.Signals(-code).name}"
    return f"exit status {code}"


def error_message(file: Path, reply: dict, n: int | None, max_values: int, memory_bytes: int) -> str:
    """The worker answered with an error: an output too large, out of memory, or onnxruntime's own."""
    error = " ".join(str(reply.get("error", "")).split())[:300]
    if isinstance(shape := reply.get("shape"), list) and n:
        return (f"{file}: gives an output of shape ({', '.join(map(str, shape))}) for {n:,} inputs; the explorer "
                f"takes at most {max_values // n:,} values per input")
    if reply.get("memory"):
        return (f"{file}: needed more than the {memory_bytes / 2**30:g} GB of memory a graph may use "
                f"{doing(n)} ({error}); export a smaller model")
    return f"{file}: onnxruntime failed {doing(n)} ({error})"
