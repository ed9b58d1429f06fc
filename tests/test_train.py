"""The training contract: train() is deterministic for a seed, calls its callbacks, holds out a
seeded validation split, stops with a clear error when a loss becomes NaN, and the command line
writes a checkpoint that loads."""
from __future__ import annotations

import pytest
import torch

from aecore import __main__ as cli
from aecore.checkpoint import FORMAT, load_checkpoint
from aecore.config import ModelConfig, TrainConfig
from aecore.pictures.pixels import as_image_batch
from aecore.train import TrainingError, split_train_val, train

SMALL = dict(dataset="mnist-sample", epochs=2, batch_size=64, max_train=256)
MODEL = ModelConfig(kind="plain", latent_dim=2, hidden=[16])


def weights(model) -> list[torch.Tensor]:
    return [p.detach().clone() for p in model.parameters()]


def test_the_same_seed_gives_the_same_model_and_another_seed_does_not():
    a, b = train(MODEL, TrainConfig(**SMALL, seed=3)), train(MODEL, TrainConfig(**SMALL, seed=3))
    assert all(torch.equal(x, y) for x, y in zip(weights(a.model), weights(b.model)))
    assert [r["train"] for r in a.history] == [r["train"] for r in b.history]
    c = train(MODEL, TrainConfig(**SMALL, seed=4))
    assert not all(torch.equal(x, y) for x, y in zip(weights(a.model), weights(c.model)))
    assert not a.model.training  # handed back in eval mode


def test_callbacks_see_every_epoch_and_batch_and_the_loss_falls():
    epochs, batches = [], []
    result = train(MODEL, TrainConfig(**{**SMALL, "epochs": 3}), on_epoch=epochs.append, on_batch=batches.append)
    assert [r["epoch"] for r in epochs] == [1, 2, 3] and epochs == result.history
    per_epoch = -(-result.dataset["train_size"] // SMALL["batch_size"])  # ceil
    assert len(batches) == 3 * per_epoch and all(isinstance(b, float) for b in batches)
    assert {"loss", "recon"} <= set(epochs[0]["train"]) and "val" in epochs[0]
    assert epochs[-1]["train"]["loss"] < epochs[0]["train"]["loss"]


def test_validation_split_is_seeded_disjoint_and_sized():
    images = as_image_batch(torch.arange(100, dtype=torch.float32).view(100, 1, 1, 1).expand(100, 1, 28, 28) / 100)
    cfg = TrainConfig(val_fraction=0.2, seed=1)
    tr, val = split_train_val(images, cfg)
    assert (len(tr), len(val)) == (80, 20)
    ids = lambda t: set((t[:, 0, 0, 0] * 100).round().int().tolist())  # noqa: E731
    assert not ids(tr) & ids(val) and len(ids(tr) | ids(val)) == 100
    again, _ = split_train_val(images, cfg)
    assert torch.equal(again, tr)
    assert len(split_train_val(images, TrainConfig(val_fraction=0.2, max_train=50))[1]) == 10
    assert len(split_train_val(images, TrainConfig(val_fraction=0.0))[1]) == 0
    result = train(MODEL, TrainConfig(**{**SMALL, "epochs": 1}, val_fraction=0.25))
    assert (result.dataset["train_size"], result.dataset["val_size"]) == (192, 64)


def test_a_loss_that_becomes_nan_stops_training_with_what_to_do(monkeypatch):
    from aecore.models import Autoencoder
    # no allowed learning rate makes Adam diverge in a few steps: a penalty that turns NaN does
    monkeypatch.setattr(Autoencoder, "penalties", lambda self, x, z, terms: {"boom": z.sum() * float("nan")})
    with pytest.raises(TrainingError, match="boom.*lower --lr"):
        train(MODEL, TrainConfig(**{**SMALL, "epochs": 3}))


def test_unknown_schedule_names_the_valid_ones():
    with pytest.raises(ValueError, match="constant, cosine"):
        train(MODEL, TrainConfig(**SMALL, lr_schedule="step"))


def test_the_command_line_trains_and_writes_a_checkpoint_that_loads(tmp_path, capsys):
    out = tmp_path / "ck"
    code = cli.main(["train", "--kind", "vae", "--beta", "0.5", "--latent-dim", "2", "--hidden", "16",
                     "--dataset", "mnist-sample", "--epochs", "1", "--max-train", "128", "--out", str(out)])
    assert code == 0 and "saved" in capsys.readouterr().out
    ckpt = load_checkpoint(out)
    assert ckpt.config["format"] == FORMAT and ckpt.model.config.options.beta == 0.5
    assert set(ckpt.config["model"]) == {"kind", "body", "latent_dim", "hidden", "channels", "activation",
                                         "dropout", "recon", "image", "vae"}  # a VAE's config names only its own settings
    assert ckpt.config["model"]["image"] == [1, 28, 28]  # the training set's shape


def test_a_flag_of_another_kind_is_an_error_not_ignored(tmp_path, capsys):
    code = cli.main(["train", "--kind", "plain", "--beta", "2", "--out", str(tmp_path / "x")])
    assert code == 2 and "beta" in capsys.readouterr().err
    assert not (tmp_path / "x").exists()


def test_training_records_a_map_and_reconstructions_per_epoch_that_the_checkpoint_keeps(tmp_path):
    from aecore.train import save_result
    cfg = TrainConfig(**SMALL)
    result = train(ModelConfig(kind="vae", latent_dim=8, hidden=[16]), cfg)
    recorded = result.recorder.tensors()
    assert recorded["maps"].shape == (2, 1000, 2) and recorded["reconstructions"].shape == (2, 12, 28, 28)
    assert all(0 < r["record_seconds"] for r in result.history)  # each epoch's recording was timed
    ckpt = load_checkpoint(save_result(tmp_path / "ck", result, cfg))
    back = ckpt.recorded()
    assert all((back[k] == recorded[k]).all() for k in recorded)
    other = train(MODEL, TrainConfig(**{**SMALL, "epochs": 1}, seed=9))  # another model, same images
    assert (other.recorder.tensors()["index"] == recorded["index"]).all()
    assert (tmp_path / "ck" / "history.safetensors").stat().st_size < 2**20


def test_a_history_keeps_every_epoch_of_a_short_training_and_frames_of_a_long_one():
    from aecore.train.history import frame_epochs
    assert frame_epochs(7, 40).tolist() == list(range(1, 8))
    for epochs in (41, 60, 150, 230, 1000):
        kept = frame_epochs(epochs, 40)
        assert len(kept) == 40 and kept[0] == 1 and kept[-1] == epochs and (kept[1:] > kept[:-1]).all()
        assert kept[10] - kept[9] < kept[-1] - kept[-2]  # denser at the start, where the map changes most


def test_a_long_training_records_only_the_frames_it_keeps_and_its_history_loads(tmp_path, monkeypatch):
    import aecore.train.history as history
    from aecore.train import save_result
    monkeypatch.setattr(history, "FRAMES", 3)
    cfg = TrainConfig(**{**SMALL, "epochs": 5})
    result = train(MODEL, cfg)
    assert [("record_seconds" in r) for r in result.history] == [True, True, False, False, True]
    recorded = load_checkpoint(save_result(tmp_path / "ck", result, cfg)).recorded()
    assert recorded["epochs"].tolist() == [1, 2, 5] and len(recorded["maps"]) == 3


def test_a_history_of_every_epoch_is_thinned_when_saved(monkeypatch):
    import aecore.train.history as history
    monkeypatch.setattr(history, "FRAMES", 3)
    recorder = history.Recorder("mnist-sample", size=20, every_epoch=True)  # as the Train page records
    result = train(MODEL, TrainConfig(**{**SMALL, "epochs": 5}), recorder=recorder)
    assert all("record_seconds" in r for r in result.history) and len(recorder.maps) == 5
    kept = recorder.tensors()
    assert kept["epochs"].tolist() == [1, 2, 5] and (kept["maps"][2] == recorder.maps[4].astype("float16")).all()


def test_a_history_written_before_frames_were_kept_loads_as_every_epoch(tmp_path):
    from safetensors.numpy import load_file, save_file

    from aecore.train import save_result
    cfg = TrainConfig(**SMALL)
    path = save_result(tmp_path / "ck", train(MODEL, cfg), cfg)
    old = {k: v for k, v in load_file(path / "history.safetensors").items() if k != "epochs"}
    save_file(old, path / "history.safetensors")
    assert load_checkpoint(path).recorded()["epochs"].tolist() == [1, 2]


def test_a_broken_history_file_is_a_checkpoint_error(tmp_path):
    from aecore.checkpoint import CheckpointError
    from aecore.train import save_result
    cfg = TrainConfig(**{**SMALL, "epochs": 1})
    path = save_result(tmp_path / "ck", train(MODEL, cfg), cfg)
    (path / "history.safetensors").write_bytes(b"nonsense")
    with pytest.raises(CheckpointError, match="history.safetensors"):
        load_checkpoint(path).recorded()


def test_maps_of_wide_codes_do_not_spin_from_one_epoch_to_the_next():
    import numpy as np

    from aecore.train.history import align
    rng = np.random.default_rng(0)
    codes = rng.normal(size=(300, 6)) * [5, 2, 0.3, 0.2, 0.1, 0.1]
    first = align(codes, None)
    turned = codes @ np.linalg.qr(rng.normal(size=(6, 6)))[0]  # the same cloud, rotated in code space
    again = align(turned, first)
    assert np.abs(again - (first - first.mean(axis=0))).max() < 1e-3


def test_a_stop_keeps_the_last_finished_epoch(monkeypatch):
    import threading

    import aecore.train.loop as loop
    stop, seen, reference_model = threading.Event(), [], []
    build = loop.build_model
    monkeypatch.setattr(loop, "build_model", lambda cfg: reference_model.append(build(cfg)) or reference_model[-1])

    def after_epoch(record):
        seen.append(record["epoch"])
        stop.set()  # ask to stop during epoch 2
    result = train(MODEL, TrainConfig(**{**SMALL, "epochs": 4}), on_epoch=after_epoch, stop=stop)
    assert result.stopped and seen == [1] and len(result.history) == 1
    assert result.recorder.tensors()["epochs"].tolist() == [1]
    after_one = {}
    reference = train(MODEL, TrainConfig(**{**SMALL, "epochs": 4}),
                      on_epoch=lambda r: after_one or after_one.update(weights=weights(reference_model[-1])))
    assert not reference.stopped and len(reference.history) == 4
    assert all(torch.equal(a, b) for a, b in zip(weights(result.model), after_one["weights"]))


def test_a_moving_average_of_the_weights_is_the_model_kept():
    plain = train(MODEL, TrainConfig(**SMALL))
    averaged = train(MODEL, TrainConfig(**SMALL, ema=0.9))
    assert not all(torch.equal(a, b) for a, b in zip(weights(plain.model), weights(averaged.model)))
    assert averaged.history[-1]["val"]["loss"] < 1.5 * plain.history[-1]["val"]["loss"]  # still a model that works


def test_bfloat16_steps_train_a_float32_model_about_as_well():
    plain = train(MODEL, TrainConfig(**SMALL))
    half = train(MODEL, TrainConfig(**SMALL, precision="bfloat16"))
    assert all(w.dtype == torch.float32 for w in weights(half.model))
    assert not all(torch.equal(a, b) for a, b in zip(weights(plain.model), weights(half.model)))
    assert half.history[-1]["val"]["loss"] < 1.1 * plain.history[-1]["val"]["loss"]


def test_a_umap_model_warm_starts_from_umap_learns_map_and_can_keep_it():
    import numpy as np
    cfg = ModelConfig.from_flat({"kind": "umap", "latent_dim": 2, "hidden": [16], "umap_n_neighbors": 5,
                                 "umap_warm_epochs": 2, "umap_anchor_weight": 10.0, "umap_freeze_map": True})
    result = train(cfg, TrainConfig(**{**SMALL, "epochs": 2}))
    phases = [r.get("phase") for r in result.history]
    assert phases == ["warm start", "warm start", None, None]
    assert "anchor" in result.history[0]["train"] and "anchor" not in result.history[-1]["train"]
    maps = result.recorder.tensors()["maps"].astype(np.float32)
    assert np.array_equal(maps[1], maps[3])  # the frozen map stayed where the warm start left it
    assert not np.array_equal(maps[0], maps[1])


@pytest.mark.parametrize("dims", [1, 3])
def test_a_umap_warm_start_pulls_codes_of_any_size_to_a_map_of_that_size(dims):
    """The warm start's target is umap-learn's map with as many dimensions as the codes (a 2-D
    target crashed every code size but 2: "size of tensor a (16) must match ... (2)")."""
    cfg = ModelConfig.from_flat({"kind": "umap", "latent_dim": dims, "hidden": [16], "umap_n_neighbors": 5,
                                 "umap_warm_epochs": 3, "umap_anchor_weight": 10.0})
    result = train(cfg, TrainConfig(**{**SMALL, "epochs": 1}))
    anchors = [r["train"]["anchor"] for r in result.history if r.get("phase") == "warm start"]
    assert len(anchors) == 3 and anchors == sorted(anchors, reverse=True) and anchors[-1] < 0.95 * anchors[0], \
        anchors  # the codes move towards the map
    assert "umap" in result.history[-1]["train"]


def test_a_stop_between_kept_frames_records_the_epoch_it_keeps(monkeypatch):
    import threading

    import aecore.train.history as history
    monkeypatch.setattr(history, "FRAMES", 3)  # 6 epochs keep 1, 2 and 6: a stop in epoch 4 keeps epoch 3
    stop = threading.Event()
    result = train(MODEL, TrainConfig(**{**SMALL, "epochs": 6}), stop=stop,
                   on_epoch=lambda r: r["epoch"] == 3 and stop.set())
    assert result.stopped and len(result.history) == 3
    assert result.recorder.tensors()["epochs"].tolist() == [1, 2, 3]
