"""Loading is strict: every way a checkpoint folder can be wrong ends in a CheckpointError that
names the file and what was expected; format-1 checkpoints still load; saving is atomic."""
from __future__ import annotations

import io
import json
import zipfile

import pytest
import torch
from factories import tiny_config
from safetensors.torch import load_file, save_file

from aecore.checkpoint import (CONFIG, FORMAT, WEIGHTS, CheckpointError, list_checkpoints, load_checkpoint,
                               save_checkpoint, unpack_upload)
from aecore.config import KIND_OPTIONS, TrainConfig
from aecore.models import build_model


@pytest.fixture
def folder(tmp_path):
    torch.manual_seed(0)
    return save_checkpoint(tmp_path / "ck", build_model(tiny_config("vae", "mlp")), TrainConfig(), {"name": "x"}, 1.0)


def edit_config(folder, change) -> None:
    config = json.loads((folder / CONFIG).read_text())
    change(config)
    (folder / CONFIG).write_text(json.dumps(config))


def edit_weights(folder, change) -> None:
    state = load_file(folder / WEIGHTS)
    change(state)
    save_file(state, folder / WEIGHTS)


def test_a_saved_checkpoint_is_format_2_and_names_only_its_kind(folder):
    config = json.loads((folder / CONFIG).read_text())
    assert config["format"] == FORMAT and config["model"]["vae"] == {"beta": 1.0}
    assert not {"sparsity", "umap_weight", "noise"} & set(config["model"])
    assert not list(folder.parent.glob(".ck.*"))  # no temporary folder left beside it


@pytest.mark.parametrize("change, message", [
    (lambda s: s.pop("bottleneck.mu.weight"), "missing tensors"),
    (lambda s: s.update(extra=torch.zeros(2)), "unexpected tensors"),
    (lambda s: s.update({"bottleneck.mu.weight": torch.zeros(3, 32)}), "mis-shaped"),
])
def test_weights_that_do_not_fit_the_config_are_refused(folder, change, message):
    edit_weights(folder, change)
    with pytest.raises(CheckpointError, match=f"{WEIGHTS}.*{message}"):
        load_checkpoint(folder)


@pytest.mark.parametrize("change, message", [
    (lambda c: c["model"].update(colour="blue"), "unknown field.*colour"),
    (lambda c: c["model"].update(sparse={"rho": 0.1}), "unknown field.*sparse"),  # another kind's section
    (lambda c: c["model"]["vae"].update(gamma=2), "unknown field.*gamma"),
    (lambda c: c["model"].update(kind="diffusion"), "unknown kind 'diffusion'; valid: plain"),
    (lambda c: c.update(format="aecore-checkpoint/9"), "format 'aecore-checkpoint/9'.*upgrade aecore"),
    (lambda c: c.pop("model"), 'no "model" section'),
])
def test_a_config_that_does_not_describe_a_model_is_refused(folder, change, message):
    edit_config(folder, change)
    with pytest.raises(CheckpointError, match=message) as err:
        load_checkpoint(folder)
    assert CONFIG in str(err.value)


def test_broken_and_missing_files_name_the_file(folder):
    (folder / WEIGHTS).write_bytes(b"\x00" * 20)
    with pytest.raises(CheckpointError, match=f"{WEIGHTS}: not a safetensors file"):
        load_checkpoint(folder)
    (folder / WEIGHTS).unlink()
    with pytest.raises(CheckpointError, match=f"{WEIGHTS}: missing"):
        load_checkpoint(folder)
    (folder / CONFIG).write_text("{not json")
    with pytest.raises(CheckpointError, match="not valid JSON"):
        load_checkpoint(folder)
    with pytest.raises(CheckpointError, match="not a checkpoint folder"):
        load_checkpoint(folder / "nowhere")


def test_a_format_1_checkpoint_with_every_kinds_settings_flat_still_loads(folder):
    model = load_checkpoint(folder).model

    def to_format_1(config):
        flat = {k: v for k, v in config["model"].items() if k != "vae"}
        for cls in KIND_OPTIONS.values():  # format 1 wrote every kind's defaults
            flat.update({f: getattr(cls(), f) for f in cls.__dataclass_fields__})
        flat["beta"] = 0.25
        config.update(format="aecore-checkpoint/1", model=flat)
    edit_config(folder, to_format_1)
    old = load_checkpoint(folder)
    assert old.model.config.options.beta == 0.25 and old.model.config.kind == "vae"
    x = torch.rand(3, 1, 28, 28)
    torch.testing.assert_close(old.model.encode(x), model.encode(x), atol=0, rtol=0)


def test_listing_skips_bad_folders_with_their_reason(folder):
    bad = folder.parent / "bad"
    bad.mkdir()
    (bad / CONFIG).write_text("[]")
    valid, skipped = list_checkpoints(folder.parent)
    assert valid == [folder] and skipped[0][0] == bad and "model" in skipped[0][1]


def zipped(members: dict[str, bytes]) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as z:
        for name, data in members.items():
            z.writestr(name, data)
    return buf.getvalue()


def test_an_upload_unpacks_only_the_checkpoint_files(folder, tmp_path):
    files = {f"deep/inside/{name}": (folder / name).read_bytes() for name in (CONFIG, WEIGHTS)}
    dest = unpack_upload({"mine.zip": zipped({**files, "deep/README.md": b"notes"})}, tmp_path / "up")
    assert sorted(p.name for p in dest.iterdir()) == [CONFIG, WEIGHTS]
    assert load_checkpoint(dest).model.config.kind == "vae"
    with pytest.raises(CheckpointError, match="missing model.safetensors"):
        unpack_upload({CONFIG: (folder / CONFIG).read_bytes()}, tmp_path / "up2")


def test_a_zip_member_whose_path_leaves_the_folder_is_refused_and_nothing_is_written(folder, tmp_path):
    files = {name: (folder / name).read_bytes() for name in (CONFIG, WEIGHTS)}
    with pytest.raises(CheckpointError, match="'../../evil.py', a path that leaves its folder"):
        unpack_upload({"mine.zip": zipped({**files, "../../evil.py": b"print('no')"})}, tmp_path / "up")
    assert not list((tmp_path / "up").iterdir()) and not (tmp_path.parent / "evil.py").exists()
