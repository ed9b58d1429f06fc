"""AppTests of the Train page (a training in the background: each epoch's map, Stop, the saved
checkpoint on every page, the line of waiting sessions, the demo's bounds) and of the History
page's replay. The training thread is paced by the test: it waits after each epoch until the
test has looked, so every epoch is seen whatever the machine's speed."""
from __future__ import annotations

import threading
import time
from pathlib import Path

import numpy as np
import pytest
from factories import CKPT_2D, train_tiny
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


def test_the_demo_bounds_what_it_trains(open_page, pace, monkeypatch):
    monkeypatch.setenv("AECORE_DEMO", "1")
    at = open_page(TRAIN, CKPT_2D)
    assert_clean(at)
    assert at.selectbox(key="train_dataset").options == ["mnist-sample"]
    assert at.selectbox(key="train_body").options == ["mlp"]
    assert at.number_input(key="train_latent_dim").max == 16 and at.number_input(key="train_epochs").max == 10
    assert "Hosted demo" in at.caption[0].value and "session-" in at.caption[0].value  # a folder per session


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
    ask = lambda owner: training.Request(ModelConfig(), training.TrainConfig(), "x", tmp_path, owner)  # noqa: E731
    try:
        assert trainer.submit(ask("a")).state == "running"
        with pytest.raises(training.Busy, match="stop it first"):
            trainer.submit(ask("a"))
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
