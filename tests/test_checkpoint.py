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


def test_weights_holding_nan_or_infinity_are_refused_naming_the_tensor(folder):
    edit_weights(folder, lambda s: s["decoder.0.weight"].view(-1)[:3].copy_(torch.tensor([1.0, float("nan"), float("inf")])))
    with pytest.raises(CheckpointError, match="tensor decoder.0.weight holds 2 NaN or infinite value"):
        load_checkpoint(folder)


def test_weights_too_large_to_compute_with_are_refused(folder):
    edit_weights(folder, lambda s: s["encoder.1.weight"].fill_(3e38))
    with pytest.raises(CheckpointError, match=f"{WEIGHTS}: the model's codes or outputs for plain test images are NaN"):
        load_checkpoint(folder)


def test_weights_of_another_dtype_are_refused(folder):
    edit_weights(folder, lambda s: s.update({k: v.half() for k, v in s.items()}))
    with pytest.raises(CheckpointError, match="not float32: .* is F16"):
        load_checkpoint(folder)


def test_a_config_describing_a_bigger_model_than_its_weights_is_refused_before_building_it(folder, monkeypatch):
    import aecore.checkpoint.weights
    import aecore.models
    devices = []
    real = aecore.models.build_model
    for module in (aecore.models, aecore.checkpoint.weights):  # load_checkpoint imports it when called
        monkeypatch.setattr(module, "build_model", lambda cfg: devices.append(torch.get_default_device().type) or real(cfg))
    edit_config(folder, lambda c: c["model"].update(hidden=[4096, 1024], latent_dim=256))  # 16M parameters
    with pytest.raises(CheckpointError, match="weights do not match config.json"):
        load_checkpoint(folder)
    assert devices == ["meta"]  # only the shapes were built, on the meta device: no memory


@pytest.mark.parametrize("change, message", [
    (lambda c: c.update(training=[1, 2]), "training config must be a JSON object"),
    (lambda c: c["training"].update(epochs=-1), 'training config field "epochs" is -1'),
    (lambda c: c.update(about=[]), '"about" is \\[\\]; expected an object'),
    (lambda c: c.update(about={"anchors": {"knn5": {"value": "high"}}}), '"anchors"\\]\\["knn5"\\] is'),
    (lambda c: c.update(history=[{"train": {"loss": 1.0}}]), '"history"\\[0\\]\\["epoch"\\] is null'),
    (lambda c: c.update(history=[{"epoch": 1, "train": {"loss": "low"}}]), '\\["train"\\]\\["loss"\\] is "low"'),
    (lambda c: c.update(dataset="mnist"), '"dataset" is "mnist"; expected an object'),
    (lambda c: c["model"].update(hidden=[64, None]), 'field "hidden" is \\[64, null\\]'),
    (lambda c: c["model"].update(vae=[1.0]), '"vae" section must be a JSON object'),
])
def test_every_section_the_app_reads_is_checked_when_loading(folder, change, message):
    edit_config(folder, change)
    with pytest.raises(CheckpointError, match=message) as err:
        load_checkpoint(folder)
    assert str(err.value).startswith(str(folder / CONFIG)) and "\n" not in str(err.value)


@pytest.mark.parametrize("text, message", [
    ("[" * 100_000, "not valid JSON"), ('{"model": ' + "9" * 5000 + "}", "not valid JSON"),
    ("\xff\xfe{}", "not valid JSON"), (" " * (2**20 + 1), "1,048,577 bytes, more than the 1,048,576"),
])
def test_json_that_would_crash_or_flood_the_parser_is_refused(folder, text, message):
    (folder / CONFIG).write_bytes(text.encode("latin-1"))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(folder)


@pytest.mark.parametrize("metrics, message", [
    ([], "metrics.json is \\[\\]; expected an object"), ({"metrics": {"knn5": "good"}}, '"knn5"\\] is "good"'),
    ({"measured_on": 5}, '"measured_on" is 5'),
])
def test_a_metrics_file_of_the_wrong_shape_is_refused(folder, metrics, message):
    (folder / "metrics.json").write_text(json.dumps(metrics))
    with pytest.raises(CheckpointError, match=message):
        load_checkpoint(folder)


def patched(data: bytes, name: str, offset: int, value: bytes) -> bytes:
    """The zip `data` with a field of member `name` overwritten in both of its headers: the local
    header at `offset`, the central directory's copy 2 bytes further on (flags, method, CRC, sizes)."""
    out, enc = bytearray(data), name.encode()
    local = next(i for i in range(len(out)) if out[i:i + 4] == b"PK\x03\x04" and out[i + 30:i + 30 + len(enc)] == enc)
    central = next(i for i in range(len(out)) if out[i:i + 4] == b"PK\x01\x02" and out[i + 46:i + 46 + len(enc)] == enc)
    out[local + offset:local + offset + len(value)] = value
    if offset < 30:
        out[central + offset + 2:central + offset + 2 + len(value)] = value
    return bytes(out)


CRC, USIZE, FLAGS, METHOD = 14, 22, 6, 8  # offsets in a zip's local file header
DATA = 30 + len(WEIGHTS)  # where the weights' compressed stream starts (no extra field)


@pytest.fixture
def zip_upload(folder):
    return zipped({name: (folder / name).read_bytes() for name in (CONFIG, WEIGHTS)})


@pytest.mark.parametrize("damage, message", [
    (lambda z: patched(z, WEIGHTS, DATA, b"\xff" * 16), r"damaged \(.*(invalid|Bad CRC)"),  # was zlib.error
    (lambda z: patched(z, WEIGHTS, CRC, b"\0\0\0\0"), r"damaged \(Bad CRC-32"),
    (lambda z: patched(z, WEIGHTS, USIZE, (1).to_bytes(4, "little")), "damaged"),  # a size that lies low
    (lambda z: patched(z, WEIGHTS, FLAGS, b"\x01\x00"), "encrypted: zip it without a password"),
    (lambda z: patched(z, WEIGHTS, METHOD, b"\x0e\x00"), "compression method 14; only stored and deflate"),
    (lambda z: z[: len(z) // 2], r"damaged \(File is not a zip file"),
    (lambda z: b"hello, not a zip", "damaged"),
])
def test_a_damaged_zip_is_refused_with_what_to_do(zip_upload, tmp_path, damage, message):
    with pytest.raises(CheckpointError, match=message) as err:
        unpack_upload({"mine.zip": damage(zip_upload)}, tmp_path / "up")
    assert "zip" in str(err.value) and not list((tmp_path / "up").iterdir())


def test_a_zip_whose_header_overstates_a_size_is_read_by_its_data(zip_upload, tmp_path):
    lying = patched(zip_upload, WEIGHTS, USIZE, (2**31).to_bytes(4, "little"))
    assert load_checkpoint(unpack_upload({"mine.zip": lying}, tmp_path / "up")).model.config.kind == "vae"


@pytest.mark.parametrize("members, message", [
    ({"a/config.json": b"{}", "b/config.json": b"{}"}, r"holds config.json twice \('a/config.json' and 'b/config.json'\)"),
    ({f"f{i}": b"" for i in range(1001)}, "more than 1,000 entries"),
    ({"/etc/config.json": b"{}"}, "a path that leaves its folder"), ({"c:config.json": b"{}"}, "leaves its folder"),
    ({"model.safetensors": bytes(17 * 2**20), "config.json": b"{}"}, "unpacks to more than 16,777,216 bytes"),
])
def test_a_zip_that_is_ambiguous_unsafe_or_too_big_unpacked_is_refused(tmp_path, members, message):
    with pytest.raises(CheckpointError, match=message):
        unpack_upload({"mine.zip": zipped(members)}, tmp_path / "up")


def test_a_zip_with_one_name_twice_is_refused(folder, tmp_path):
    buf = io.BytesIO()
    with pytest.warns(UserWarning, match="Duplicate name"), zipfile.ZipFile(buf, "w") as z:
        z.writestr(CONFIG, "{}")
        z.writestr(CONFIG, "{}")
    with pytest.raises(CheckpointError, match="holds 'config.json' twice"):
        unpack_upload({"mine.zip": buf.getvalue()}, tmp_path / "up")


def test_uploaded_files_above_the_limits_are_refused_before_anything_is_written(tmp_path):
    with pytest.raises(CheckpointError, match="uploaded config.json is 1,048,577 bytes; the limit is 1,048,576"):
        unpack_upload({CONFIG: b" " * (2**20 + 1), WEIGHTS: b""}, tmp_path / "up")
    with pytest.raises(CheckpointError, match="holds config.json twice"):
        unpack_upload({"config.json": b"{}", "x/config.json": b"{}"}, tmp_path / "up")
    assert not list((tmp_path / "up").iterdir())
