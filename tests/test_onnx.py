"""A model brought as ONNX graphs: its layout and code size are read from the graphs, onnx.json
changes what it should, it answers the model interface, and every way the files can be wrong is
a one-line CheckpointError naming the file."""
from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import onnx
import pytest
import torch
from onnx import helper
from onnx_factories import ITEMS, channels_last_folder, linear_decoder, linear_encoder, linear_pair

from aecore.checkpoint import (DECODER, ENCODER, ONNX_JSON, CheckpointError, list_checkpoints, load_checkpoint,
                               unpack_upload, weights_digest)
from aecore.latent import decode_codes, encode_dataset, units
from aecore.models import Unavailable
from aecore.models import onnx_files


def sigmoid(a):
    return 1 / (1 + np.exp(-np.clip(a, -50, 50)))


@pytest.mark.parametrize("layout", list(ITEMS))
def test_every_input_layout_is_read_from_the_graph(tmp_path, layout, images):
    w = linear_pair(tmp_path / "m", d=3, layout=layout)
    model = load_checkpoint(tmp_path / "m").model
    assert model.latent_dim == 3 and model.describe()["input"].startswith(layout)
    x = images[:5].numpy()
    codes = encode_dataset(model, x[:, 0])
    np.testing.assert_allclose(codes, x.reshape(5, 784) @ w["we"].T + w["be"], atol=1e-5)
    np.testing.assert_allclose(decode_codes(model, codes).reshape(5, 784), sigmoid(codes @ w["wd"] + w["bd"]), atol=1e-5)
    np.testing.assert_array_equal(model.first_layer_weights(), w["we"])  # read from the Gemm's initializer


@pytest.mark.slow
def test_a_channels_last_torch_export_gives_the_torch_models_codes_and_images(tmp_path, images):
    torch_model = channels_last_folder(tmp_path / "keras-like")
    model = load_checkpoint(tmp_path / "keras-like").model
    x = images[:7]
    with torch.no_grad():
        want_z = torch_model.encode(x.permute(0, 2, 3, 1))
        want_x = torch_model.decode(want_z).permute(0, 3, 1, 2)
    assert model.describe()["input"].startswith("(B, 28, 28, 1)")
    torch.testing.assert_close(model.encode(x), want_z, atol=1e-5, rtol=0)
    torch.testing.assert_close(model.decode(want_z), want_x, atol=1e-5, rtol=0)
    # the convolution's kernels, read through the graph's transpose
    np.testing.assert_array_equal(model.first_layer_weights(), torch_model.conv.weight.detach().numpy())


def test_a_graph_made_for_a_fixed_batch_runs_on_any_number_of_images(tmp_path, images):
    w = linear_pair(tmp_path / "m", batch=4)
    codes = encode_dataset(load_checkpoint(tmp_path / "m").model, images[:10, 0])  # chunks of 4, the last padded
    np.testing.assert_allclose(codes, images[:10].numpy().reshape(10, 784) @ w["we"].T + w["be"], atol=1e-5)


def test_onnx_json_sets_the_pixel_range_logits_prior_and_dataset(tmp_path, images):
    meta = {"name": "My AE", "dataset": "fashion-mnist", "input_range": [0, 255], "output": "logits",
            "prior": "normal", "code_activation": "relu", "kind": "keras ae"}
    w = linear_pair(tmp_path / "m", meta=meta)
    ckpt = load_checkpoint(tmp_path / "m")
    x = images[:3].numpy()
    codes = encode_dataset(ckpt.model, x[:, 0])
    np.testing.assert_allclose(codes, (255 * x).reshape(3, 784) @ w["we"].T + w["be"], rtol=1e-5, atol=1e-3)
    np.testing.assert_allclose(decode_codes(ckpt.model, codes).reshape(3, 784), sigmoid(codes @ w["wd"] + w["bd"]),
                               atol=1e-5)
    assert ckpt.dataset == "fashion-mnist" and ckpt.config["about"]["title"] == "My AE"
    assert ckpt.model.has_prior and ckpt.model.code_activation == "relu" and ckpt.model.kind == "keras ae"
    assert ckpt.model.sample_prior(4, seed=1).shape == (4, 3)


def test_without_onnx_json_the_defaults_apply(tmp_path):
    linear_pair(tmp_path / "plain")
    ckpt = load_checkpoint(tmp_path / "plain")
    assert ckpt.dataset == "mnist" and ckpt.model.kind == "onnx" and not ckpt.model.has_prior
    assert ckpt.model.describe()["output"] == "pixels in [0, 1], (B, 784)"  # the decoder's layout too
    assert list_checkpoints(tmp_path)[0] == [tmp_path / "plain"]


def test_what_a_graph_cannot_give_is_unavailable_and_says_why(tmp_path, images):
    folder = tmp_path / "m"
    linear_pair(folder)
    w = np.zeros((3, 784), np.float32)
    onnx.save(linear_encoder(w, np.zeros(3, np.float32), first="Relu"), folder / ENCODER)
    model = load_checkpoint(folder).model
    with pytest.raises(Unavailable, match="first operator on the pixels is Relu"):
        model.first_layer_weights()
    filters, note = units.first_layer_filters(model)
    assert len(filters) == 0 and "Relu" in note
    view = units.unit_view(model, encode_dataset(model, images[:20, 0]), images[:20, 0], unit=1)
    assert view.weight is None and "no gradients" in view.weight_note
    assert view.drawing.shape == (28, 28)


def _write(folder, name, data):
    (folder / name).write_bytes(data)


def _custom_op(folder):
    node = helper.make_node("Encode", ["pixels"], ["code"], domain="my.ops")
    model = helper.make_model(helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("pixels", onnx.TensorProto.FLOAT, ["B", 784])],
        [helper.make_tensor_value_info("code", onnx.TensorProto.FLOAT, ["B", 3])]),
        opset_imports=[helper.make_opsetid("", 17), helper.make_opsetid("my.ops", 1)], ir_version=10)
    _write(folder, ENCODER, model.SerializeToString())


def _external(folder, location="w.bin", move_to=None):
    """The encoder's weights saved in a file `location` beside it; with `move_to`, the graph then
    says they are there instead (onnx.save refuses to write such a path, an attacker would not)."""
    model = onnx.load(folder / ENCODER)
    onnx.save(model, folder / ENCODER, save_as_external_data=True, all_tensors_to_one_file=True,
              location=location, size_threshold=0)
    if move_to:
        model = onnx.load(folder / ENCODER, load_external_data=False)
        for t in model.graph.initializer:
            for entry in t.external_data:
                if entry.key == "location":
                    entry.value = move_to
        _write(folder, ENCODER, model.SerializeToString())


BAD = {  # what is wrong -> (how to make it so, the file named, what the message says)
    "not ONNX": (lambda f: _write(f, ENCODER, b"these are my notes, not a model\n"), ENCODER, "not a whole ONNX model"),
    "truncated": (lambda f: _write(f, DECODER, (f / DECODER).read_bytes()[:5000]), DECODER, "not a whole ONNX model"),
    "empty": (lambda f: _write(f, ENCODER, b""), ENCODER, "not a whole ONNX model"),
    "wrong input shape": (lambda f: _rgb(f, 2), ENCODER, r"input has shape \(B, 2, 32, 32\), which fits none of the "
                          r"layouts \(B, C, H, W\), \(B, H, W, C\), \(B, H, W\), \(B, C\*H\*W\) with 1 or 3 channels"),
    "decoder of other images": (lambda f: _rgb(f, 3), ENCODER, r"encoder.onnx takes 32x32 colour images \(B, 3, 32, 32\) "
                                r"but .*decoder.onnx gives 28x28 grey images \(B, 784\)"),
    "code sizes differ": (lambda f: onnx.save(linear_decoder(np.zeros((5, 784), np.float32), np.zeros(784, np.float32)),
                                              f / DECODER), DECODER, "gives codes of size 3 but .* takes codes of size 5"),
    "custom operator": (_custom_op, ENCODER, "custom operator 'Encode' of domain 'my.ops'"),
    "weights outside its folder": (lambda f: _external(f, move_to="../w.bin"), ENCODER,
                                   "keeps the tensor 'flat' in a file '../w.bin', not a plain file name in its folder"),
    "weights file missing": (lambda f: _external(f) or (f / "w.bin").unlink(), ENCODER, "'w.bin', not found beside it"),
    "missing decoder": (lambda f: (f / DECODER).unlink(), DECODER, "missing"),
    "bad onnx.json": (lambda f: _write(f, ONNX_JSON, b'{"output": "pixels"}'), ONNX_JSON,
                      "unknown output 'pixels'; valid: probabilities, logits"),
    "unknown field": (lambda f: _write(f, ONNX_JSON, b'{"colour": 1}'), ONNX_JSON, "unknown field 'colour'"),
    "unknown dataset": (lambda f: _write(f, ONNX_JSON, b'{"dataset": "cifar"}'), ONNX_JSON,
                        "unknown dataset 'cifar'; valid: mnist"),
}


def _rgb(folder, channels):
    """An encoder for 32 x 32 images of `channels` channels (B, C, 32, 32)."""
    node = helper.make_node("ReduceMean", ["pixels"], ["code"], keepdims=0, axes=[2, 3])
    model = helper.make_model(helper.make_graph(
        [node], "g", [helper.make_tensor_value_info("pixels", onnx.TensorProto.FLOAT, ["B", channels, 32, 32])],
        [helper.make_tensor_value_info("code", onnx.TensorProto.FLOAT, ["B", 3])]),
        opset_imports=[helper.make_opsetid("", 17)], ir_version=10)
    onnx.save(model, folder / ENCODER)


@pytest.mark.parametrize("problem", list(BAD))
def test_bad_onnx_files_get_one_line_naming_the_file(tmp_path, problem):
    make, file, message = BAD[problem]
    folder = tmp_path / "m"
    linear_pair(folder, meta={})
    make(folder)
    with pytest.raises(CheckpointError, match=message) as err:
        load_checkpoint(folder)
    assert str(folder / file) in str(err.value) and "\n" not in str(err.value)


def test_a_graph_over_the_size_budget_is_refused_before_it_is_read(tmp_path, monkeypatch):
    linear_pair(tmp_path / "m")
    monkeypatch.setattr(onnx_files, "MAX_GRAPH_BYTES", 1000)
    with pytest.raises(CheckpointError, match=f"{ENCODER}: 0 MB with its weights, over the 0 MB budget"):
        load_checkpoint(tmp_path / "m")


def test_weights_kept_beside_the_graph_are_read(tmp_path, images):
    w = linear_pair(tmp_path / "m")
    _external(tmp_path / "m", "encoder.onnx.data")
    model = load_checkpoint(tmp_path / "m").model
    np.testing.assert_array_equal(model.first_layer_weights(), w["we"])


def test_onnx_uploads_as_files_or_a_zip_and_onnx_json_is_in_the_digest(tmp_path):
    src = tmp_path / "src"
    linear_pair(src, meta={"name": "zipped"})
    files = {n: (src / n).read_bytes() for n in (ENCODER, DECODER, ONNX_JSON)}
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for name, data in files.items():
            z.writestr(f"my-model/{name}", data)
    for dest, upload in [(tmp_path / "a", files), (tmp_path / "b", {"my-model.zip": buf.getvalue()})]:
        unpack_upload(upload, dest)
        assert load_checkpoint(dest).config["about"]["title"] == "zipped"
    before = weights_digest(tmp_path / "a")
    (tmp_path / "a" / ONNX_JSON).write_text(json.dumps({"input_range": [0, 255]}))
    assert weights_digest(tmp_path / "a") != before  # a new pixel range: new codes, new cache keys
    with pytest.raises(CheckpointError, match="missing decoder.onnx"):
        unpack_upload({ENCODER: files[ENCODER]}, tmp_path / "c")
    with pytest.raises(CheckpointError, match="meta.json beside ONNX graphs; name the JSON .* onnx.json"):
        unpack_upload({**files, "meta.json": b"{}"}, tmp_path / "d")


def test_a_hostile_onnx_json_is_a_checkpoint_error_not_a_crash(tmp_path):
    from aecore.checkpoint import CheckpointError
    from aecore.models.onnx import read_onnx_json
    (tmp_path / "onnx.json").write_text("[" * 100_000 + "]" * 100_000)  # nesting deeper than Python recurses
    with pytest.raises(CheckpointError, match="onnx.json"):
        read_onnx_json(tmp_path)
    (tmp_path / "onnx.json").write_bytes(b'{"name": "' + b"x" * 2_000_000 + b'"}')  # bigger than any real one
    with pytest.raises(CheckpointError, match="onnx.json"):
        read_onnx_json(tmp_path)
