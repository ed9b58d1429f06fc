"""Slow maps in the background (ui.jobs, aecore.latent.worker): the page says what a map will
cost before it starts, the worker reports its progress, a cancel kills it and caches nothing,
one job serves every session asking for the same map, and a finished job's map is drawn. Also
the estimates (aecore.latent.cost) and the pixel-neighbour lists behind "neighbour preservation"
on the codes' own map (aecore.latent.neighbour_lists)."""
from __future__ import annotations

import json
import time

import numpy as np
import pytest
from factories import CKPT_16D
from streamlit.testing.v1 import AppTest
from test_app import assert_clean, charts, values

from aecore import cache
from aecore.latent import cost, worker
from aecore.latent.neighbour_lists import kept, knn_lists

LATENT, COMPARE = "pages/2_latent_map.py", "pages/6_compare.py"


def wait_for(condition, what: str, timeout: float = 120, step=None) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        (step or (lambda: time.sleep(0.2)))()


def clusters(n: int, d: int = 8, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return (rng.normal(scale=8, size=(5, d))[np.arange(n) % 5] + rng.normal(size=(n, d))).astype(np.float32)


def run_worker(tmp_path, task: dict, inputs: np.ndarray) -> list[dict]:
    """Run the worker as the app does; its progress reports."""
    folder = tmp_path / "job"
    folder.mkdir()
    np.save(folder / "input.npy", inputs)
    (folder / "task.json").write_text(json.dumps({**task, "key": {"test": str(tmp_path)}, "estimate": 10.0}))
    with open(folder / "log.txt", "wb") as log:
        assert worker.start(folder, log, 1).wait(timeout=300) == 0, (folder / "log.txt").read_text()
    return [json.loads(line) for line in (folder / "progress.jsonl").read_text().splitlines()]


@pytest.mark.slow  # a worker process: interpreter, umap-learn and numba's cache, ~5 s
def test_a_umap_worker_reports_every_stage_and_epoch_and_stores_the_map(tmp_path, monkeypatch):
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    task = {"task": "projection", "cost": "umap", "method": "umap", "seed": 0, "params": {"n_neighbors": 10}}
    reports = run_worker(tmp_path, task, clusters(3000))
    phases = [r["phase"] for r in reports]
    assert "Building UMAP's neighbour graph" in phases and phases[-1] == "Done"
    epochs = [r["done"] for r in reports if r["phase"] == "layout epoch"]
    assert len(epochs) >= 2 and epochs == sorted(epochs) and epochs[-1] == 200  # counted, to the last
    assert all(r["total"] == 200 for r in reports if r["phase"] == "layout epoch")
    xy = cache.read({"test": str(tmp_path)})
    assert xy.shape == (3000, 2) and np.isfinite(xy).all()
    assert json.loads((tmp_path / "cache" / "timings.json").read_text())["umap"]  # the machine's speed, kept


@pytest.mark.slow
def test_a_tsne_worker_counts_its_iterations(tmp_path, monkeypatch):
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    task = {"task": "projection", "cost": "tsne", "method": "tsne", "seed": 0, "params": {"perplexity": 10.0}}
    reports = run_worker(tmp_path, task, clusters(400))
    iterations = [r["done"] for r in reports if r["phase"] == "iteration"]
    assert iterations[0] == 50 and iterations == sorted(iterations) and len(iterations) >= 2  # reports are 0.25 s apart
    assert {r["total"] for r in reports if r["phase"] == "iteration"} == {1000}
    assert {(r["done"], r["total"]) for r in reports if r["phase"] == "neighbour probabilities, code"} == {(400, 400)}


def test_estimates_grow_with_the_points_and_learn_the_machines_speed(tmp_path, monkeypatch):
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path))
    umap = [cost.seconds("umap", n, 16) for n in (1000, 10_000, 70_000)]
    tsne = [cost.seconds("tsne", n, 16) for n in (1000, 10_000, 70_000)]
    assert umap == sorted(umap) and tsne == sorted(tsne) and tsne[1] > umap[1]
    assert cost.seconds("umap", 10_000, 16, setup=0) < umap[1]  # no worker to start
    assert cost.seconds("pca", 70_000, 16) == 0
    setup, work = cost.START_S["tsne"], cost.seconds("tsne", 5000, 16, setup=0)
    for _ in range(3):  # this machine's t-SNE work turns out twice as slow
        cost.record("tsne", 5000, 16, {}, setup + 2 * work)
    assert cost.seconds("tsne", 10_000, 16) == pytest.approx(setup + 2 * (tsne[1] - setup))
    assert cost.seconds("umap", 10_000, 16) == pytest.approx(umap[1])  # each kind of work its own
    assert [cost.duration(s) for s in (0.2, 42, 150, 5000)] == ["about 1 s", "about 42 s", "about 2 min",
                                                                 "about 1 h 23 min"]


def test_pixel_neighbour_lists_are_exact_and_leave_each_point_out():
    rng = np.random.default_rng(0)
    images = rng.integers(0, 256, (300, 28, 28), dtype=np.uint8)
    images[7] = images[3]  # a duplicate must not push anyone's own point in
    chunks = []
    lists = knn_lists(images, 5, on_chunk=lambda done, total: chunks.append((done, total)), chunk=128)
    flat = images.reshape(300, -1).astype(np.float64)
    dist = (flat ** 2).sum(1)[:, None] + (flat ** 2).sum(1)[None] - 2 * flat @ flat.T
    np.fill_diagonal(dist, np.inf)
    truth = np.argsort(dist, axis=1, kind="stable")[:, :5]
    assert lists.shape == (300, 5) and not (lists == np.arange(300)[:, None]).any()
    assert np.mean([set(a) == set(b) for a, b in zip(lists, truth)]) > 0.99
    assert lists[3, 0] == 7 and lists[7, 0] == 3
    assert chunks == [(128, 300), (256, 300), (300, 300)]
    assert np.array_equal(kept(lists, lists), np.ones(300)) and kept(lists, np.roll(lists, 1, axis=0)).mean() < 0.2


def test_pixel_neighbour_lists_of_colour_images_never_hold_them_all_as_floats(monkeypatch):
    import tracemalloc
    from aecore.latent import neighbour_lists
    images = np.random.default_rng(0).integers(0, 256, (500, 64, 64, 3), dtype=np.uint8)  # 6 MB
    monkeypatch.setattr(neighbour_lists, "REFERENCE_BYTES", 2 * 2**20)
    tracemalloc.start()
    lists = knn_lists(images, 3, chunk=50)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 8 * 2**20, f"{peak / 2**20:.0f} MB at the peak; as floats the images alone are 25 MB"
    flat = images.reshape(500, -1).astype(np.float64)  # distances of whole numbers: exact in float64
    for i in range(0, 500, 50):
        dist = ((flat - flat[i]) ** 2).sum(1)
        dist[i] = np.inf
        assert np.array_equal(lists[i], np.argsort(dist, kind="stable")[:3])


@pytest.fixture
def background(app_env, monkeypatch):
    """Every slow work goes to the background (AECORE_BACKGROUND_S=0), one worker at a time; the
    server's jobs are cancelled and forgotten afterwards."""
    from ui.jobs import jobs
    monkeypatch.setenv("AECORE_BACKGROUND_S", "0")
    monkeypatch.setenv("AECORE_JOBS", "1")
    yield jobs()
    for digest in list(jobs().jobs):
        jobs().cancel(digest)
    wait_for(lambda: all(j.state not in ("queued", "running") for j in jobs().jobs.values()), "jobs to stop", 30)
    jobs().jobs.clear()


def the_job(at: AppTest, jobs):
    (job,) = [j for j in jobs.jobs.values()]
    return job


def choose(open_page, method: str, seed: int = 4242) -> AppTest:
    """The Latent map of the 16-D checkpoint with `method`, at a seed no other test maps with
    (the session's tests share one disk cache: a map made there already needs no job)."""
    at = open_page(LATENT, CKPT_16D)
    at.sidebar.number_input(key="seed").set_value(seed)
    at.selectbox(key="projection").set_value(method).run()
    assert_clean(at)
    return at


@pytest.mark.slow
def test_a_slow_map_says_its_cost_first_then_runs_shared_and_is_drawn(open_page, background):
    at = choose(open_page, "umap")
    assert not charts(at), "no map before the user starts it"
    (note,) = [i.value for i in at.info if "UMAP of 1,000 16-D codes" in i.value]
    assert "takes about" in note and "on this machine" in note and "cancel" in note
    at.button(key="map_start_0").click().run()
    assert_clean(at)
    job = the_job(at, background)
    assert job.state in ("running", "done")
    other = choose(open_page, "umap")  # a second session with the same settings
    assert_clean(other)
    assert not [b for b in other.button if b.key == "map_start_0"], "it watches the same job, not a new one"
    assert len(background.jobs) == 1
    wait_for(lambda: bool(charts(at.run())), "the finished map to be drawn", step=lambda: time.sleep(0.5))
    assert_clean(at)
    assert sum(len(values(t["x"])) for t in charts(at)[0]["data"] if t["name"] != "grid") == 1000
    wait_for(lambda: job.state == "done", "the worker to exit", 30)  # it stored the map just before
    assert job.report() == {}  # its folder is cleared away
    assert cache.entry(job.work.key).is_file()


@pytest.mark.slow
def test_a_running_map_shows_progress_and_a_cancel_kills_it_and_caches_nothing(open_page, background):
    at = choose(open_page, "tsne")
    at.button(key="map_start_0").click().run()
    job = the_job(at, background)
    wait_for(lambda: job.report().get("phase"), "the worker's first report", 60)
    at.run()
    assert_clean(at)
    (bar,) = at.get("progress")
    assert "t-SNE of 1,000 16-D codes" in bar.proto.text
    assert any("so far; estimated about" in c.value for c in at.caption)
    at.button(key="map_cancel_0").click().run()
    assert_clean(at)
    wait_for(lambda: job.state == "cancelled", "the cancel", 30)
    at.run()
    assert job.process.poll() is not None, "the worker was killed"
    assert not cache.entry(job.work.key).is_file(), "nothing cached"
    assert any("cancelled after" in w.value and "Nothing was cached" in w.value for w in at.warning)
    assert at.button(key="map_start_0").label.startswith("Compute it"), "offered again, not restarted"
    assert not charts(at) and job.state == "cancelled"


@pytest.mark.slow
def test_jobs_wait_in_line_and_start_when_a_worker_is_free(app_env, background, tmp_path):
    from ui.jobs import Work
    codes = clusters(2000)
    works = [Work(key={"line": i, "at": str(tmp_path)}, task={"task": "projection", "cost": "tsne", "method": "tsne",
                                                                "seed": i, "params": {}},
                  title=f"t-SNE {i}", estimate=60, here=60, inputs=lambda: codes) for i in range(2)]
    first, second = (background.submit(w) for w in works)
    assert (first.state, second.state) == ("running", "queued")  # AECORE_JOBS=1
    assert background.submit(works[1]) is second  # asked again: the same job
    background.cancel(works[0].digest)
    wait_for(lambda: second.state == "running", "the second job to start when the first stopped", 30)
    assert first.state == "cancelled"


@pytest.mark.slow
def test_compare_waits_for_a_background_map_beside_the_other_then_compares(open_page, background):
    at = open_page(COMPARE, CKPT_16D)
    at.sidebar.number_input(key="seed").set_value(4243).run()
    at.selectbox(key="cmp_a_projection").set_value("umap").run()
    assert_clean(at)
    assert any("UMAP of 1,000 16-D codes" in i.value and "takes about" in i.value for i in at.info)
    assert not charts(at) and not at.dataframe, "the comparison waits for both maps"
    at.button(key="cmp_a_job_start_0").click().run()
    wait_for(lambda: len(charts(at.run())) == 2, "both maps", step=lambda: time.sleep(0.5))
    assert_clean(at)
    assert len(at.dataframe) == 2  # then the rest of the page: both metrics tables
