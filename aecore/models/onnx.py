"""An autoencoder brought as two ONNX graphs: a folder holding encoder.onnx and decoder.onnx, plus
an optional onnx.json for what the graphs cannot say (ONNX_JSON). It runs in onnxruntime on the
CPU behind the interface every page uses (aecore.models.autoencoder), so the pages never ask what it is.

What the graphs say is read from them (aecore.models.onnx_graphs): the input layout, (B, 1, 28,
28), (B, 28, 28), (B, 784) or channels-last (B, 28, 28, 1), and the code size. A graph is a
program: it is checked before it runs (only its own folder's files, only the operators of
encoders and decoders: onnx_files, onnx_ops), then runs in a worker process with time and memory
limits (onnx_sandbox), and every output it gives is checked (one finite row per input, of the
size it had when loaded).
"""
from __future__ import annotations

import copy
import threading
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import onnx
import torch
from torch import nn

from ..checkpoint import DECODER, ENCODER, ONNX_JSON, CheckpointError, read_json
from ..checks import lookup
from ..data.registry import datasets
from ..pictures.pixels import PIXELS, SIDE, as_image_batch
from . import onnx_graphs as graphs
from . import onnx_sandbox as sandbox
from .autoencoder import Unavailable, standard_normal_codes

# onnx.json: every field is optional; these are the defaults
DEFAULTS = {
    "name": None,                  # the title on the model card (default: the folder's name)
    "dataset": "mnist",            # what it was trained on: a dataset name of aecore.data
    "input_range": [0.0, 1.0],     # the pixel values the encoder expects, black to white
    "output": "probabilities",     # the decoder gives pixels in [0, 1], or "logits" (sigmoid applied)
    "kind": "onnx",                # a label for people (pickers, captions)
    "prior": None,                 # "normal": codes have the prior N(0, I) (a VAE's); null: none
    "code_activation": None,       # "sigmoid" or "relu" for squashed codes, null for unbounded
}
OUTPUTS = {"probabilities": "pixels in [0, 1]", "logits": "logits (a sigmoid makes them pixels)"}
PRIORS = {"normal": "N(0, I)"}
ACTIVATIONS = {"sigmoid": "sigmoid", "relu": "relu"}


def _field(file: Path, key: str, value):
    """onnx.json's value for `key`, checked; CheckpointError naming the file otherwise."""
    try:
        if key in ("name", "dataset", "kind") and not isinstance(value, str):
            raise ValueError(f"{key} must be a string, got {value!r}")
        if key == "input_range":
            if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, (int, float)) for v in value)
                    and value[0] < value[1]):
                raise ValueError(f"input_range must be [black, white], e.g. [0, 1] or [0, 255], got {value!r}")
            return [float(v) for v in value]
        choices = {"output": OUTPUTS, "prior": PRIORS, "code_activation": ACTIVATIONS,
                   "dataset": datasets()}  # a user's own set too, as a checkpoint's config may name
        if key in choices and not (value is None and key in ("prior", "code_activation")):  # null: none
            lookup(choices[key], value, key)
        return value
    except ValueError as e:
        raise CheckpointError(f"{file}: {e}") from None


def read_onnx_json(folder: Path) -> dict:
    """onnx.json of the folder with DEFAULTS for what it leaves out (all of it without the file)."""
    file = folder / ONNX_JSON
    meta = dict(DEFAULTS, name=folder.name)
    if not file.is_file():
        return meta
    given = read_json(file)  # bounded in size, every kind of bad JSON a CheckpointError
    if not isinstance(given, dict):
        raise CheckpointError(f"{file}: expected an object such as {{\"name\": \"my model\"}}")
    for key, value in given.items():
        if key not in DEFAULTS:
            raise CheckpointError(f"{file}: unknown field {key!r}; valid: {', '.join(DEFAULTS)}")
        meta[key] = _field(file, key, value)
    return meta


@dataclass
class Graph:
    """One graph in the model's worker (onnx_sandbox): its file, its name there, one item's input
    shape, a fixed batch size or None, how many items one call takes, and the values it gives per
    item (None until the load check has seen them)."""
    file: Path
    sandbox: sandbox.Sandbox
    name: str
    item: tuple[int, ...]
    batch: int | None
    rows: int
    per_item: int | None = None

    def run(self, a: np.ndarray) -> np.ndarray:
        """The first output for the batch `a` (N, ...) -> (N, values per item) float32, in calls of
        at most `rows` items (of `batch`, the last one padded with zeros, for a graph made for a
        fixed batch size). CheckpointError naming the file when an output is not one finite row
        of the load check's size per item."""
        a = np.ascontiguousarray(a, np.float32).reshape(len(a), *self.item)
        step = self.batch or self.rows
        out = [self._call(a[start:start + step]) for start in range(0, len(a), step)]
        return np.concatenate(out) if out else np.zeros((0, self.per_item or 0), np.float32)

    def _call(self, chunk: np.ndarray) -> np.ndarray:
        pad = (self.batch or len(chunk)) - len(chunk)
        full = np.concatenate([chunk, np.zeros((pad, *self.item), np.float32)]) if pad else chunk
        limit = self.per_item or max(PIXELS, graphs.MAX_CODE_SIZE)
        out = self.sandbox.run(self.name, full, max_values=len(full) * limit)
        if out.ndim == 0 or len(out) != len(full):
            raise CheckpointError(f"{self.file}: gave an output of shape {tuple(out.shape)} for {len(full)} inputs; "
                                  "a graph must give one output per input")
        out = out[:len(chunk)].reshape(len(chunk), -1)
        if self.per_item is not None and out.shape[1] != self.per_item:
            raise CheckpointError(f"{self.file}: gave {out.shape[1]:,} values per input, not the {self.per_item:,} "
                                  "it gave when it was loaded; its output size must not depend on the data")
        if not np.isfinite(out).all():
            raise CheckpointError(f"{self.file}: gave NaN or infinite values for {len(chunk)} inputs; the pages "
                                  "cannot show them: export a model that computes finite values")
        return out


class OnnxAutoencoder(nn.Module):
    """Two onnxruntime sessions behind the Autoencoder interface; no parameters, nothing to
    train. Images (B, 1, 28, 28) in [0, 1] <-> codes (B, d), as for every model."""

    no_gradients = "an ONNX graph runs in onnxruntime, which computes no gradients"

    def __init__(self, encoder: Graph, decoder: Graph, latent_dim: int, meta: dict, card: dict,
                 first_layer: np.ndarray | str):
        super().__init__()
        self.encoder_graph, self.decoder_graph, self.meta = encoder, decoder, meta
        self._latent_dim, self._card, self._first_layer = latent_dim, card, first_layer

    @property
    def latent_dim(self) -> int:
        return self._latent_dim

    @property
    def kind(self) -> str:
        return self.meta["kind"]

    @property
    def has_prior(self) -> bool:
        return self.meta["prior"] is not None

    @property
    def code_activation(self) -> str | None:
        return self.meta["code_activation"]

    def sample_prior(self, n: int, seed: int) -> np.ndarray:
        if not self.has_prior:
            raise ValueError(f"a {self.kind!r} model has no prior: sample from a Gaussian fitted to its codes")
        return standard_normal_codes(n, self.latent_dim, seed)

    def first_layer_weights(self) -> np.ndarray:
        if isinstance(self._first_layer, str):
            raise Unavailable(self._first_layer)
        return self._first_layer

    def describe(self) -> dict[str, str]:
        return dict(self._card)

    def neg_elbo(self, x: torch.Tensor, eps: torch.Tensor) -> torch.Tensor:
        raise Unavailable("no ELBO: the encoder graph gives the code, not the posterior's variance")

    def encode(self, x: torch.Tensor) -> torch.Tensor:
        """(B, 1, 28, 28) in [0, 1] -> (B, d), through the graph's own layout and pixel range."""
        x = as_image_batch(x)
        black, white = self.meta["input_range"]
        pixels = x.detach().cpu().numpy()
        if (black, white) != (0.0, 1.0):
            pixels = black + pixels * (white - black)
        return torch.from_numpy(self.encoder_graph.run(pixels).reshape(len(x), -1)).to(x.device)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, d) -> (B, 1, 28, 28) in [0, 1]."""
        out = torch.from_numpy(self.decoder_graph.run(z.detach().cpu().numpy()).reshape(len(z), 1, SIDE, SIDE))
        return (torch.sigmoid(out) if self.meta["output"] == "logits" else out).to(z.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def _graphs(folder: Path) -> tuple[Graph, Graph, int | None, tuple[onnx.ModelProto, onnx.ModelProto]]:
    """(encoder, decoder, code size where the graphs give it, the parsed graphs), checked; the two
    share one worker (onnx_sandbox), started by their first run."""
    enc_file, dec_file = folder / ENCODER, folder / DECODER
    (enc, enc_rows), (dec, dec_rows) = graphs.read_graph(enc_file), graphs.read_graph(dec_file)
    layout, batch = graphs.input_layout(enc, enc_file)
    d_enc, d_dec = graphs.code_size(enc, enc_file, "output"), graphs.code_size(dec, dec_file, "input")
    for file, d in ((enc_file, d_enc), (dec_file, d_dec)):
        if d and d > graphs.MAX_CODE_SIZE:
            raise _too_long(file, d)
    if d_enc and d_dec and d_enc != d_dec:
        raise _mismatch(enc_file, dec_file, d_enc, d_dec)
    out = graphs.dims(dec.graph.output[0])[1:]
    if out and None not in out and int(np.prod(out)) != PIXELS:
        raise CheckpointError(f"{dec_file}: its output has shape {graphs.shape_text([None, *out])}; the explorer "
                              f"expects {PIXELS} pixels (28 x 28) per image")
    box = sandbox.Sandbox({"encoder": (enc_file, enc.SerializeToString()),
                           "decoder": (dec_file, dec.SerializeToString())})
    encoder = Graph(enc_file, box, "encoder", graphs.LAYOUTS[layout], batch, enc_rows)
    dec_batch = graphs.dims(graphs.only_input(dec, dec_file))[0]
    decoder = Graph(dec_file, box, "decoder", (d_dec or d_enc or 0,), dec_batch, dec_rows)
    return encoder, decoder, d_enc or d_dec, (enc, dec)


def _mismatch(enc_file: Path, dec_file: Path, d_enc: int, d_dec: int) -> CheckpointError:
    return CheckpointError(f"{enc_file} gives codes of size {d_enc} but {dec_file} takes codes of size "
                           f"{d_dec}; the two graphs must come from one autoencoder")


def _too_long(file: Path, d: int) -> CheckpointError:
    return CheckpointError(f"{file}: codes of size {d:,}, over the {graphs.MAX_CODE_SIZE:,} the explorer takes (the "
                           "largest aecore trains); export a model with a smaller code")


def _probe(encoder: Graph, decoder: Graph, d: int | None, input_range: list[float]) -> int:
    """Run a black, a grey and a white image through both graphs (as torch checkpoints are
    checked, checkpoint/weights.py): their codes and images must be finite, of one size per
    item; the code size. CheckpointError naming the file otherwise."""
    black, white = input_range
    images = np.stack([np.full(encoder.item, black + v * (white - black), np.float32) for v in (0.0, 0.5, 1.0)])
    z = encoder.run(images)
    if z.shape[1] > graphs.MAX_CODE_SIZE:
        raise _too_long(encoder.file, z.shape[1])
    if d and z.shape[1] != d:
        raise _mismatch(encoder.file, decoder.file, z.shape[1], d)
    encoder.per_item, decoder.item = z.shape[1], (z.shape[1],)
    image = decoder.run(z)
    if image.shape[1] != PIXELS:
        raise CheckpointError(f"{decoder.file}: gives {image.shape[1]} values per code; the explorer expects "
                              f"{PIXELS} pixels (28 x 28) per image")
    decoder.per_item = PIXELS
    return z.shape[1]


def _card(meta: dict, layout: str, d: int, enc: onnx.ModelProto, dec: onnx.ModelProto) -> dict[str, str]:
    widths = graphs.layer_widths(enc) + graphs.layer_widths(dec)
    start = {"(B, 784)": "784", "(B, 28, 28)": "28×28", "(B, 1, 28, 28)": "1×28×28", "(B, 28, 28, 1)": "28×28×1"}
    black, white = meta["input_range"]
    return {
        "kind": meta["kind"],
        "body": f"ONNX graphs in onnxruntime: {ENCODER} ({len(enc.graph.node)} operators), "
                f"{DECODER} ({len(dec.graph.node)} operators)",
        "input": f"{layout}, pixels from {black:g} (black) to {white:g} (white)",
        "output": OUTPUTS[meta["output"]],
        "layer sizes": " → ".join([start[layout], *widths]) if widths else
                       "not readable: the graphs store no dense or convolution weights",
        "code size": str(d),
        "parameters": f"{graphs.parameter_count(enc) + graphs.parameter_count(dec):,} (stored in the graphs)",
    }


REMEMBERED = 4  # ONNX folders whose model (or refusal) is kept: see load_onnx
_remembered: OrderedDict[tuple, tuple[OnnxAutoencoder, dict] | CheckpointError] = OrderedDict()
_remembered_lock = threading.Lock()


def load_onnx(folder: str | Path) -> tuple[OnnxAutoencoder, dict]:
    """(the model, the config a Checkpoint carries: "about", "dataset", "onnx": onnx.json with its
    defaults) of an ONNX model folder; CheckpointError naming the file for every problem.

    The last REMEMBERED folders' models, or refusals, are kept while their files stay as they
    are: the checkpoint list's check, the picker's label and the page's load then share one
    worker (onnx_sandbox), and a graph refused after 30 s is refused again at once."""
    folder = Path(folder)
    key = (str(folder.resolve()), *sorted((p.name, s.st_size, s.st_mtime_ns) for p in folder.iterdir()
                                          if (s := p.lstat())))
    with _remembered_lock:
        known = _remembered.get(key)
        if known is not None:
            _remembered.move_to_end(key)
    if known is None:
        try:
            known = _load(folder)
        except CheckpointError as e:
            known = e
        with _remembered_lock:
            _remembered[key] = known
            while len(_remembered) > REMEMBERED:
                _remembered.popitem(last=False)
    if isinstance(known, CheckpointError):
        raise CheckpointError(str(known))
    return known[0], copy.deepcopy(known[1])


def _load(folder: Path) -> tuple[OnnxAutoencoder, dict]:
    meta = read_onnx_json(folder)
    encoder, decoder, d, (enc, dec) = _graphs(folder)
    try:
        d = _probe(encoder, decoder, d, meta["input_range"])
    except CheckpointError:
        encoder.sandbox.close()  # its worker ends now, not when the graphs are collected
        raise
    try:
        first: np.ndarray | str = graphs.first_layer_weights(enc)
    except Unavailable as why:
        first = f"{why} in {ENCODER}"
    layout = next(name for name, item in graphs.LAYOUTS.items() if item == encoder.item)
    model = OnnxAutoencoder(encoder, decoder, d, meta, _card(meta, layout, d, enc, dec), first)
    config = {"format": "onnx", "about": {"title": meta["name"]}, "dataset": {"name": meta["dataset"]},
              "history": [], "onnx": meta}
    return model.eval(), config
