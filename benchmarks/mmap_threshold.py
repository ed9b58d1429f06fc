"""`python -m benchmarks.mmap_threshold`: what ui/upload_memory.py's fixed glibc mmap threshold
(1 MB: every block from 1 MB up is its own mapping, so freed upload buffers go back to the system)
costs a page's tensor work: CPU ms to encode and decode 10,000 images with vae-16d on one thread,
at 1 MB against 32 MB (glibc's adaptive threshold's ceiling, where large tensors reuse the heap),
taking turns, 6 rounds. Linux with glibc only."""
from __future__ import annotations

import ctypes
import resource
import statistics

ROUNDS, REPEATS = 6, 5


def cpu_s() -> float:
    r = resource.getrusage(resource.RUSAGE_SELF)
    return r.ru_utime + r.ru_stime


def main() -> None:
    import torch

    from aecore.checkpoint import load_checkpoint
    from aecore.data import load_dataset
    from ui.upload_memory import M_MMAP_THRESHOLD, MB, MMAP_THRESHOLD
    torch.set_num_threads(1)
    mallopt = ctypes.CDLL("libc.so.6").mallopt
    model = load_checkpoint("checkpoints/vae-16d").model
    x = torch.tensor(load_dataset("mnist-sample", "test").images).float().div(255).unsqueeze(1)
    x = x.repeat(10_000 // len(x), 1, 1, 1)
    ms: dict[int, list[float]] = {MMAP_THRESHOLD: [], 32 * MB: []}
    with torch.no_grad():
        for _ in range(ROUNDS):
            for threshold, times in ms.items():
                mallopt(M_MMAP_THRESHOLD, threshold)
                model.decode(model.encode(x))
                start = cpu_s()
                for _ in range(REPEATS):
                    model.decode(model.encode(x))
                times.append((cpu_s() - start) / REPEATS * 1000)
    for threshold, times in ms.items():
        print(f"mmap threshold {threshold // MB:>2} MB: encode + decode {len(x):,} images "
              f"{min(times):.0f} CPU ms (min), {statistics.median(times):.0f} (median of {ROUNDS})")


if __name__ == "__main__":
    main()
