"""`python -m benchmarks.onnx_sandbox`: what running ONNX graphs in a worker process with limits
(aecore.models.onnx_sandbox) costs a page, and what each hostile graph of the attack suite costs
before it is refused. Every measurement runs in a fresh Python process.

Default: the Latent map (Streamlit's AppTest: the server's work, no browser) with the ONNX export
of a 2-D checkpoint (python -m aecore export-onnx): the app's first page (the model listed and
loaded, which starts its worker), then the Latent map's first run (every test digit encoded, the
map drawn), a selection of 30 points (reconstructed) and a click on empty space (decoded).
"before": the graphs in onnxruntime inside the server, as before the sandbox (InProcess below
stands in for Sandbox; it lives here, not in aecore); "after": as the app runs them. Medians of
--repeats runs, taking turns, and their ratio beside the goal (<= 1.2x).

--attacks: each case of tests/onnx_attack_cases.py (LOAD_CASES, then the graphs that pass the load
check and break a limit on real digits): seconds until refused, the peak resident memory of the
server's process and of any worker it started, and the message.
"""
from __future__ import annotations

import argparse
import atexit
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parent.parent
GOAL = 1.2  # the page with the sandbox over the page without
STEPS = ("load (Overview)", "first run", "select 30", "click")  # the goal is the Latent map's: the last three


class InProcess:
    """The graphs in onnxruntime inside this process (what aecore did before the sandbox)."""

    def __init__(self, graphs: dict):
        import onnxruntime as ort
        options = ort.SessionOptions()
        options.log_severity_level = 3
        options.inter_op_num_threads = 1
        options.add_session_config_entry("session.intra_op.allow_spinning", "0")
        self.graphs, self.failed = graphs, None
        self.sessions = {name: ort.InferenceSession(graph, options, providers=["CPUExecutionProvider"])
                         for name, (_, graph) in graphs.items()}

    def run(self, name: str, x: np.ndarray, max_values: int) -> np.ndarray:
        s = self.sessions[name]
        out = s.run([s.get_outputs()[0].name], {s.get_inputs()[0].name: np.ascontiguousarray(x, np.float32)})[0]
        return out.astype(np.float32, copy=False)

    def close(self) -> None:
        pass


def page_once(folder: str, where: str) -> dict[str, float]:
    """Seconds of each of STEPS on the Latent map with the ONNX model in `folder`, the graphs run
    `where` ("before": in this process; "after": in the sandbox), with empty caches."""
    from streamlit.testing.v1 import AppTest

    from aecore.models import onnx_sandbox
    from aecore.pictures.plots import GRID
    if where == "before":
        onnx_sandbox.Sandbox = InProcess
    tmp = tempfile.mkdtemp(prefix="aecore-onnx-bench-")
    atexit.register(shutil.rmtree, tmp, True)  # after the app's caches are done with it
    os.symlink(Path(folder).resolve(), Path(tmp) / Path(folder).name)
    os.environ.update(AECORE_CHECKPOINTS=tmp, AECORE_CACHE_DIR=str(Path(tmp) / "cache"), AECORE_NO_WARMUP="1")
    at = AppTest.from_file(str(REPO / "app.py"), default_timeout=600)
    at.session_state["checkpoint"] = str(Path(tmp) / Path(folder).name)
    times = {}
    start = time.perf_counter()
    at.run()  # the Overview page: the model is listed, labelled and loaded (its worker started)
    times["load (Overview)"] = time.perf_counter() - start
    start = time.perf_counter()
    at.switch_page("pages/2_latent_map.py").run()
    times["first run"] = time.perf_counter() - start
    for step, points in (("select 30", [{"customdata": i, "x": 0.0, "y": 0.0} for i in range(0, 3000, 100)]),
                         ("click", [{"customdata": GRID, "x": 0.1, "y": -0.1}])):
        at.session_state["map"] = {"selection": {"points": points, "point_indices": [], "box": [], "lasso": []}}
        start = time.perf_counter()
        at.run()
        times[step] = time.perf_counter() - start
    if at.exception or at.error:
        raise RuntimeError(f"the latent map failed: {[e.value for e in (*at.exception, *at.error)]}")
    return times


def _child(args: list[str]) -> dict:
    out = subprocess.run([sys.executable, "-m", "benchmarks.onnx_sandbox", *args], capture_output=True, text=True,
                         cwd=REPO, timeout=900)
    if out.returncode != 0:
        raise RuntimeError(f"the measuring process failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def exported(ckpt: str, root: Path) -> Path:
    from aecore.models.onnx_export import export_onnx
    return export_onnx(ckpt, root / f"{Path(ckpt).name}-onnx")


def compare(ckpt: str, repeats: int) -> int:
    with tempfile.TemporaryDirectory() as tmp:
        folder = exported(ckpt, Path(tmp))
        runs: dict[str, list[dict]] = {"before": [], "after": []}
        for _ in range(repeats):
            for where in runs:
                runs[where].append(_child(["--page", str(folder), where]))
    print(f"Latent map, {Path(folder).name} (ONNX export of {ckpt}), median of {repeats} fresh processes each; "
          f"{os.cpu_count()} CPUs")
    print(f"{'step':16s} {'before':>9s} {'after':>9s} {'ratio':>6s}  goal <= {GOAL}x on the Latent map")
    worst = 0.0
    for step in STEPS:
        before, after = (statistics.median(r[step] for r in runs[w]) for w in ("before", "after"))
        if step in STEPS[1:]:
            worst = max(worst, after / before)
        verdict = ("ok" if after / before <= GOAL else "SLOWER") if step in STEPS[1:] else "(the worker's start)"
        print(f"{step:16s} {before:8.3f}s {after:8.3f}s {after / before:5.2f}x  {verdict}")
    return 0 if worst <= GOAL else 1


def attack_once(case: str) -> dict:
    """Build the case in a fresh folder and load it (then encode 100 real digits, for the cases
    that pass the load check): seconds, this process's and its workers' peak memory, the message."""
    sys.path.insert(0, str(REPO / "tests"))
    from onnx_attack_cases import LOAD_CASES, RUN_CASES, SECRET
    from onnx_factories import linear_pair

    from aecore.checkpoint import CheckpointError, load_checkpoint
    from aecore.data import load_dataset
    from aecore.latent import encode_dataset
    digits = load_dataset("mnist-sample", "test").images[:100]
    tmp = Path(tempfile.mkdtemp(prefix="aecore-attack-"))
    atexit.register(shutil.rmtree, tmp, True)
    (tmp / SECRET).write_bytes(b"the server's secret " * 100)
    os.chdir(tmp)
    linear_pair(tmp / "m")
    make = LOAD_CASES[case][0] if case in LOAD_CASES else RUN_CASES[case]
    make(tmp / "m")
    Path("/proc/self/clear_refs").write_text("5")  # the peak (VmHWM) starts again from what is resident now
    before = _kib("VmRSS")
    peak, done = [0], threading.Event()
    watcher = threading.Thread(target=_watch_workers, args=(peak, done), daemon=True)
    watcher.start()
    start, message = time.perf_counter(), "not refused"
    try:
        encode_dataset(load_checkpoint(tmp / "m").model, digits)
    except CheckpointError as e:
        message = str(e).replace(str(tmp / "m") + "/", "")
    seconds = time.perf_counter() - start
    done.set()
    watcher.join()
    return {"case": case, "seconds": seconds, "server_mb": _kib("VmHWM") / 1024,
            "server_before_mb": before / 1024, "worker_mb": peak[0] / 1024, "message": message}


def _kib(field: str, pid: str = "self") -> int:
    """A memory field of /proc/PID/status in kB: VmRSS (resident now), VmHWM (its peak)."""
    status = Path(f"/proc/{pid}/status").read_text()
    return next(int(line.split()[1]) for line in status.splitlines() if line.startswith(field + ":"))


def _watch_workers(peak: list[int], done: threading.Event) -> None:
    """Keep in peak[0] the largest peak resident memory (kB, VmHWM) of this process's children,
    read every 10 ms until `done` (a worker's own peak: it is gone once it is stopped)."""
    children = Path(f"/proc/{os.getpid()}/task/{os.getpid()}/children")
    while not done.wait(0.01):
        for pid in children.read_text().split():
            try:  # the worker once it runs its script: a fork not yet exec'd reports the server's pages
                if b"onnx_worker.py" in Path(f"/proc/{pid}/cmdline").read_bytes():
                    peak[0] = max(peak[0], _kib("VmHWM", pid))
            except (OSError, StopIteration):
                continue


def attacks() -> int:
    sys.path.insert(0, str(REPO / "tests"))
    from onnx_attack_cases import LOAD_CASES, RUN_CASES
    rows = [_child(["--attack", case]) for case in [*LOAD_CASES, *RUN_CASES]]
    print(f"{'case':52s} {'seconds':>8s} {'server +MB':>10s} {'worker MB':>10s}  message")
    for r in rows:
        r["grew_mb"] = r["server_mb"] - r["server_before_mb"]  # the server's peak, over what it had before loading
        print(f"{r['case'][:52]:52s} {r['seconds']:8.2f} {r['grew_mb']:10.0f} {r['worker_mb']:10.0f}  "
              f"{r['message'][:110]}")
    refused = [r for r in rows if r["message"] != "not refused"]
    worst = {key: max(r[key] for r in rows) for key in ("seconds", "grew_mb", "server_before_mb", "worker_mb")}
    print(f"{len(refused)} of {len(rows)} refused; worst time {worst['seconds']:.2f} s; the server's peak grew by at "
          f"most {worst['grew_mb']:.0f} MB (from {worst['server_before_mb']:.0f} MB with torch loaded); worst worker "
          f"peak {worst['worker_mb']:.0f} MB")
    return 0 if len(refused) == len(rows) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.onnx_sandbox", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ckpt", default="checkpoints/ae-2d", help="the checkpoint to export (default %(default)s)")
    parser.add_argument("--repeats", type=int, default=3, help="fresh processes per variant (median shown)")
    parser.add_argument("--attacks", action="store_true", help="instead: the cost of each hostile graph")
    parser.add_argument("--page", nargs=2, metavar=("FOLDER", "WHERE"), help=argparse.SUPPRESS)
    parser.add_argument("--attack", metavar="CASE", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.page:
        print(json.dumps(page_once(*args.page)))
        return 0
    if args.attack:
        print(json.dumps(attack_once(args.attack)))
        return 0
    return attacks() if args.attacks else compare(args.ckpt, args.repeats)


if __name__ == "__main__":
    sys.exit(main())
