"""AppTests of the Train page (a training in the background: each epoch's map, Stop, the saved
checkpoint on every page, the line of waiting sessions, the demo's bounds) and of the History
page's replay. The training thread is paced by the test: it waits after each epoch until the
test has looked, so every epoch is seen whatever the machine's speed."""
from __future__ import annotations

import os
import threading
import time
from pathlib import Path

import numpy as np
import pytest
from factories import CKPT_2D, CKPT_16D, train_tiny
from test_app import assert_clean, charts, values

from aecore.checkpoint import load_checkpoint
from aecore.config import ModelConfig

TRAIN, HISTORY = "pages/9_train.py", "pages/10_history.py"
EVERY_PAGE = ["pages/1_overview.py", "pages/2_latent_map.py", "pages/3_generate.py", "pages/4_denoise.py",
              "pages/5_units.py", HISTORY]


class Pace:
    """Stands in for aecore.train.train in ui.training: after each epoch the training thread
    waits until the test calls next()."""

    def __init__(self, real):
        self.real, self.go = real, threading.Semaphore(0)

    def __call__(self, model, cfg, on_epoch=None, **kwargs):
        def held(record):
            on_epoch(record)
            if not self.go.acquire(timeout=60):
                raise RuntimeError(f"the test never let the training go on after epoch {record['epoch']}")
        return self.real(model, cfg, on_epoch=held, **kwargs)

    def next(self) -> None:
        self.go.release()


@pytest.fixture
def pace(app_env, tmp_path, monkeypatch):
    """A fresh Trainer whose trainings save into tmp_path/trained and are paced by the test."""
    from ui import training
    monkeypatch.setenv("AECORE_TRAINED_DIR", str(tmp_path / "trained"))
    paced = Pace(training.train)
    monkeypatch.setattr(training, "train", paced)
    training.trainer.clear()
    yield paced
    trainer = training.trainer()
    for owner in list(trainer.latest):
        trainer.stop(owner)
    for _ in range(50):
        paced.next()
    trainer.join(120)
    training.trainer.clear()


def wait_for(condition, what: str, timeout: float = 120) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"waited {timeout:g} s for {what}")
        time.sleep(0.05)


def job_of(at):
    from ui.training import trainer
    return trainer().mine(at.session_state["_session_id"])


def start(open_page, epochs: int, name: str):
    at = open_page(TRAIN, CKPT_2D)
    assert_clean(at)
    at.number_input(key="train_epochs").set_value(epochs)
    at.text_input(key="train_name").input(name)
    return at.button(key="train_start").click().run()


def map_points(at) -> np.ndarray:
    """(n, 2) points of the Train page's map (its second chart; the first is the loss curves)."""
    traces = charts(at)[1]["data"]
    return np.concatenate([np.stack([values(t["x"]), values(t["y"])], axis=1) for t in traces])


@pytest.mark.slow
def test_a_training_shows_every_epoch_stops_and_opens_on_every_page(open_page, pace, tmp_path):
    at = start(open_page, epochs=6, name="watched")
    maps = []
    for epoch in (1, 2):
        wait_for(lambda: job_of(at).epoch == epoch, f"epoch {epoch}")
        at.run()
        assert_clean(at)
        assert any(f"After epoch {epoch}:" in c.value for c in at.caption), "the map says which epoch it shows"
        assert at.get("progress")[0].proto.text.startswith(f"Epoch {epoch + 1} of 6")
        maps.append(map_points(at))
        assert len(maps[-1]) == 1000  # the fixed test subset
        if epoch == 2:
            at.button(key="train_stop").click().run()
        pace.next()
    assert not np.allclose(maps[0], maps[1]), "the map did not change from epoch 1 to 2"
    wait_for(lambda: job_of(at).finished, "the stopped training to be saved")
    at.run()
    assert_clean(at)
    assert "stopped; it keeps 2 epochs" in at.success[0].value
    saved = tmp_path / "trained" / "watched"
    ckpt = load_checkpoint(saved)
    assert len(ckpt.config["history"]) == 2 and ckpt.recorded()["maps"].shape == (2, 1000, 2)
    assert ckpt.metrics is not None  # measured before it was saved
    at.button(key="train_open").click().run()
    assert_clean(at)
    assert at.sidebar.selectbox(key="checkpoint").value == str(saved), "the new checkpoint is picked"
    assert at.title[0].value == "watched"  # the Overview
    for page in EVERY_PAGE:
        at.switch_page(page).run()
        assert_clean(at)
        assert at.sidebar.selectbox(key="checkpoint").value == str(saved), page


@pytest.mark.slow
def test_another_session_sees_the_training_and_whose_turn_is_next(open_page, pace):
    first = start(open_page, epochs=3, name="first")
    wait_for(lambda: job_of(first).epoch == 1, "the first training's epoch 1")
    second = open_page(TRAIN, CKPT_2D)
    assert "for another visitor" in second.info[0].value and "Nobody is waiting" in second.info[0].value
    second.text_input(key="train_name").input("second")
    second.button(key="train_start").click().run()
    assert_clean(second)
    assert "the next turn is yours" in second.warning[0].value
    first.run()
    assert any("the next turn is another visitor's" in c.value for c in first.caption)
    first.button(key="train_stop").click().run()
    pace.next()  # the first keeps its epoch; the second starts by itself
    wait_for(lambda: job_of(second).epoch == 1, "the second training's epoch 1")
    second.run()
    assert_clean(second)
    assert any("After epoch 1:" in c.value for c in second.caption)
    first.run()
    assert "first** stopped" in first.success[0].value


def test_a_bad_name_is_refused_with_what_to_use(open_page, pace):
    at = start(open_page, epochs=1, name="../escape")
    assert not at.exception
    assert "use 1-64 letters" in at.warning[0].value
    assert job_of(at) is None


def test_the_demo_bounds_what_it_trains_and_shows_no_host_path(open_page, pace, monkeypatch, tmp_path):
    monkeypatch.setenv("AECORE_DEMO", "1")
    at = open_page(TRAIN, CKPT_2D)
    assert_clean(at)
    assert at.selectbox(key="train_dataset").options == ["mnist-sample"]
    assert at.selectbox(key="train_body").options == ["mlp"]
    assert at.number_input(key="train_latent_dim").max == 16 and at.number_input(key="train_epochs").max == 10
    assert "Hosted demo" in at.caption[0].value
    shown = " ".join(e.value for e in [*at.caption, *at.markdown, *at.info, *at.warning, *at.success])
    assert str(tmp_path) not in shown and "session-" not in shown and "/" not in at.caption[0].value


@pytest.mark.slow
def test_a_demo_training_that_fails_names_no_server_path(open_page, pace, monkeypatch, tmp_path):
    from ui import training

    def full_disk(path, *args, **kwargs):
        raise OSError(28, "No space left on device", str(path))
    monkeypatch.setenv("AECORE_DEMO", "1")
    monkeypatch.setattr(training, "save_result", full_disk)
    at = start(open_page, epochs=1, name="unlucky")
    wait_for(lambda: job_of(at).epoch == 1, "epoch 1")
    pace.next()
    wait_for(lambda: job_of(at).finished, "the failed save")
    at.run()
    assert str(tmp_path) in job_of(at).error  # the server log's, not the visitor's
    shown = at.error[0].value
    assert shown.startswith("Training **unlucky** did not finish: [Errno 28] No space left on device")
    assert str(tmp_path) not in shown and "a file on the server" in shown


@pytest.mark.parametrize("setting, value, part", [("umap_warm_epochs", 1000, "warm start 1,01"),
                                                  ("umap_edges_per_image", 100.0, "epochs 2,020")])
def test_the_demo_refuses_a_training_whose_settings_cost_too_much(open_page, pace, monkeypatch, setting, value, part):
    """Each kind's own settings scale its cost: 1,000 warm-start epochs ran 1,010 epochs in the
    demo, and 100 edges per image cost 58 s an epoch, under the 10-epoch cap."""
    monkeypatch.setenv("AECORE_DEMO", "1")
    at = open_page(TRAIN, CKPT_2D)
    at.selectbox(key="train_kind").set_value("umap").run()
    assert any("Cost: about 22 plain epochs of work; the demo trains up to 100" in c.value for c in at.caption)
    at.number_input(key=f"train_umap_{setting}").set_value(value).run()
    at.button(key="train_start").click().run()
    assert_clean(at)
    refusal = at.warning[0].value
    assert "this training would cost about" in refusal and part in refusal and "lower epochs, " in refusal
    assert setting in refusal and job_of(at) is None
    assert not any("Cost: about 22 " in c.value for c in at.caption)  # the caption follows the settings


def test_a_demo_training_is_bounded_whatever_values_a_client_sends(app_env, tmp_path):
    from ui.train_rules import DEMO_LIMITS, LIMITS, check_limits
    from ui.training import Request
    from aecore.config import TrainConfig
    ask = lambda model, **t: Request(ModelConfig.from_flat(model), TrainConfig(**t), "x", tmp_path, "me")  # noqa: E731
    with pytest.raises(ValueError, match="up to 10 epochs"):
        check_limits(ask({"kind": "plain"}, epochs=200), DEMO_LIMITS)
    with pytest.raises(ValueError, match="codes up to 16-D"):
        check_limits(ask({"kind": "plain", "latent_dim": 64}), DEMO_LIMITS)
    with pytest.raises(ValueError, match="lower epochs, code size"):
        check_limits(ask({"kind": "contractive", "latent_dim": 16, "hidden": [2048, 1024]}, epochs=10), DEMO_LIMITS)
    for kind in ("plain", "denoising", "sparse", "contractive", "vae", "neighbour", "umap"):  # defaults fit
        check_limits(ask({"kind": kind, "latent_dim": 16}, epochs=10), DEMO_LIMITS)
    check_limits(ask({"kind": "umap", "umap_warm_epochs": 1000}, epochs=200), LIMITS)  # a host's own server: no cost cap


def test_a_training_stops_when_its_time_is_up(app_env, tmp_path):
    from ui import training
    trainer = training.Trainer()
    job = trainer.submit(training.Request(ModelConfig(hidden=[16]), training.TrainConfig(epochs=3), "late", tmp_path,
                                          "me", seconds=0.0))
    trainer.join(120)
    assert job.timed_out and job.state == "failed" and "the demo's time limit (0 s) ended it" in job.error
    assert not (tmp_path / "late").exists()


def test_a_name_of_the_zoo_is_refused_and_the_picker_says_where_each_checkpoint_comes_from(open_page, pace):
    """A training named like a zoo checkpoint put a second identical entry in the picker and took
    the zoo's place on the Leaderboard and as Compare's default."""
    at = start(open_page, epochs=1, name=CKPT_2D)
    assert_clean(at)
    assert at.warning[0].value == f"{CKPT_2D} is the name of a checkpoint in the zoo: pick another name"
    assert job_of(at) is None
    labels = at.sidebar.selectbox(key="checkpoint").options
    assert [label.split(" · ")[0] for label in labels] == [f"{CKPT_2D} (local)", f"{CKPT_16D} (local)"]


@pytest.mark.slow
def test_training_again_under_a_name_asks_before_it_replaces_the_checkpoint(open_page, pace, tmp_path):
    train_tiny(tmp_path / "trained", "again", ModelConfig(kind="plain", latent_dim=2, hidden=[64]),
               {"title": "again"}, epochs=2, evaluate=False)
    at = open_page(TRAIN, CKPT_2D)
    labels = at.sidebar.selectbox(key="checkpoint").options
    assert "again (trained here) · plain · 2-D" in labels and len(labels) == 3
    at.number_input(key="train_epochs").set_value(1)
    at.text_input(key="train_name").input("again")
    at.button(key="train_start").click().run()
    assert_clean(at)
    assert "A checkpoint named **again** was trained here already" in at.warning[0].value
    assert job_of(at) is None, "nothing starts before the visitor answers"
    at.button(key="train_keep").click().run()
    assert not at.warning and job_of(at) is None
    at.button(key="train_start").click().run()
    at.button(key="train_replace").click().run()
    assert_clean(at)
    wait_for(lambda: job_of(at) is not None and job_of(at).epoch == 1, "the replacing training's epoch")
    pace.next()
    wait_for(lambda: job_of(at).finished, "the replacing training to be saved")
    assert len(load_checkpoint(tmp_path / "trained" / "again").config["history"]) == 1  # the new one, not the old 2


def test_a_closed_tab_cancels_its_waiting_training_and_the_demo_deletes_its_checkpoints(open_page, pace, monkeypatch):
    """Five demo tabs that closed while they waited trained anyway and left their checkpoints in
    folders nothing listed or deleted."""
    import streamlit as st
    from ui.training import trainer
    monkeypatch.setenv("AECORE_DEMO", "1")
    first = start(open_page, epochs=2, name="first")
    wait_for(lambda: job_of(first).epoch == 1, "the first training's epoch 1")
    second = start(open_page, epochs=1, name="second")
    assert job_of(second).state == "queued"
    server, owners = trainer(), [at.session_state["_session_id"] for at in (first, second)]
    st.cache_resource.clear()  # what Streamlit does to the tabs' resources as they close (no server: gone for good)
    wait_for(lambda: server.line()[1] == [] and not server.latest, "the closed tabs' trainings to be ended")
    pace.next()  # the first finishes its epoch, and stops
    server.join(120)
    trained = Path(os.environ["AECORE_TRAINED_DIR"])
    assert not [p for p in trained.rglob("*") if p.is_file()], "nothing trained by a closed tab is kept"
    assert not any((trained / f"session-{owner}").exists() for owner in owners)


@pytest.mark.slow
def test_off_the_demo_a_closed_tab_cancels_its_waiting_training_and_its_running_one_is_saved(open_page, pace):
    import streamlit as st
    from ui.training import trainer
    first = start(open_page, epochs=1, name="first")
    wait_for(lambda: job_of(first).epoch == 1, "the first training's epoch 1")
    start(open_page, epochs=1, name="second")  # waits behind the first
    server = trainer()
    st.cache_resource.clear()
    wait_for(lambda: server.line()[1] == [] and not server.latest, "the closed tabs' trainings to be ended")
    pace.next()
    server.join(120)
    trained = Path(os.environ["AECORE_TRAINED_DIR"])
    assert (trained / "first" / "model.safetensors").is_file() and not (trained / "second").exists()


@pytest.mark.slow
def test_a_tab_that_reconnects_keeps_its_training(monkeypatch):
    """Streamlit releases a session's resources at every disconnect, and keeps the session for the
    tab to come back: a training is ended only once its tab has been away for that whole time."""
    from ui import tabs
    state, ended = {"connected": False}, threading.Event()
    monkeypatch.setattr(tabs, "connected", lambda session_id: state["connected"])
    monkeypatch.setattr(tabs, "disconnected_ttl", lambda: 0.5)
    monkeypatch.setattr(tabs, "CHECK_S", 0.05)
    tabs._released(("tab-1", "train-me", ended.set))
    time.sleep(0.2)
    state["connected"] = True  # back within the TTL
    time.sleep(0.8)
    assert not ended.is_set(), "ended while the tab had come back"
    tabs._released(("tab-1", "train-me", ended.set))  # the same watch again: not a second one
    state["connected"] = False  # closed for good
    assert ended.wait(5)


def test_each_kind_offers_its_own_settings_with_the_config_defaults(open_page, pace):
    at = open_page(TRAIN, CKPT_2D)
    at.selectbox(key="train_kind").set_value("vae").run()
    assert at.number_input(key="train_vae_beta").value == 1.0
    assert "weight of the KL term" in at.number_input(key="train_vae_beta").help
    at.selectbox(key="train_kind").set_value("sparse").run()
    assert at.selectbox(key="train_sparse_sparsity").options == ["l1", "kl", "log"]
    assert at.selectbox(key="train_sparse_sparsity").value == "kl"
    assert not [n for n in at.number_input if n.key == "train_vae_beta"]  # another kind's settings are gone


@pytest.fixture(scope="module")
def replayable(tmp_path_factory, app_env) -> Path:
    folder = tmp_path_factory.mktemp("trained")
    train_tiny(folder, "three-epochs", ModelConfig(kind="plain", latent_dim=2, hidden=[64]),
               {"title": "Three epochs"}, epochs=3, evaluate=False)
    return folder


def test_the_history_page_replays_every_epoch(open_page, replayable, monkeypatch):
    monkeypatch.setenv("AECORE_TRAINED_DIR", str(replayable))
    at = open_page(HISTORY, str(replayable / "three-epochs"))
    assert_clean(at)
    fig = charts(at)[0]
    assert [f["name"] for f in fig["frames"]] == ["1", "2", "3"]
    assert [s["label"] for s in fig["layout"]["sliders"][0]["steps"]] == ["1", "2", "3"]
    assert [b["label"] for b in fig["layout"]["updatemenus"][0]["buttons"]] == ["▶ Play", "❚❚ Pause"]
    first, last = (np.concatenate([values(t["x"]) for t in fig["frames"][i]["data"]]) for i in (0, 2))
    assert len(first) == 1000 and not np.allclose(first, last), "the map moves from epoch 1 to 3"
    pictures = [f["layout"]["images"][0]["source"] for f in fig["frames"]]
    assert len(set(pictures)) == 3, "each epoch shows its own reconstructions"
    assert [b.label for b in at.get("download_button")] == ["Download the animation (GIF)"]


def test_a_checkpoint_without_history_says_how_to_get_one(open_page, replayable, tmp_path, monkeypatch):
    import shutil
    shutil.copytree(replayable / "three-epochs", tmp_path / "old")
    (tmp_path / "old" / "history.safetensors").unlink()
    monkeypatch.setenv("AECORE_TRAINED_DIR", str(tmp_path))
    at = open_page(HISTORY, str(tmp_path / "old"))
    assert not at.exception
    assert "has no recorded history" in at.info[0].value


def test_the_line_refuses_a_second_request_of_a_session_and_a_full_line(monkeypatch, tmp_path):
    from ui import training
    hold = threading.Event()
    monkeypatch.setattr(training.Trainer, "_train_and_save", lambda self, job: hold.wait(30))
    trainer = training.Trainer()
    ask = lambda owner, name=None: training.Request(ModelConfig(), training.TrainConfig(), name or f"x-{owner}",  # noqa: E731
                                                    tmp_path, owner)
    try:
        assert trainer.submit(ask("a")).state == "running"
        with pytest.raises(training.Busy, match="stop it first"):
            trainer.submit(ask("a"))
        with pytest.raises(training.Busy, match="another training will save a checkpoint named x-a"):
            trainer.submit(ask("b", "x-a"))  # two visitors of a shared folder, one name
        for i in range(training.MAX_WAITING):
            assert trainer.submit(ask(f"w{i}")).state == "queued"
        with pytest.raises(training.Busy, match="already waiting"):
            trainer.submit(ask("late"))
        trainer.stop("w0")  # leaves the line
        assert trainer.line()[1] == [f"w{i}" for i in range(1, training.MAX_WAITING)]
        assert "left the line" in trainer.mine("w0").error
    finally:
        hold.set()
        trainer.join(30)
    assert trainer.line() == (None, []) and all(j.finished for j in trainer.latest.values())
