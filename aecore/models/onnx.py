"""An autoencoder brought as two ONNX graphs: a folder holding encoder.onnx and decoder.onnx, plus
an optional onnx.json for what the graphs cannot say (ONNX_JSON). It runs in onnxruntime on the
CPU behind the interface every page uses (aecore.models.autoencoder), so the pages never ask what it is.

What the graphs say is read from them (aecore.models.onnx_graphs): the image shape and the
layouts of the encoder's input and the decoder's output, (B, C, H, W), (B, H, W, C), (B, H, W) or
(B, C*H*W), with 1 or 3 channels and sides of 8 to 128 pixels (onnx_layouts), and the code size.
A graph is a program: it is checked before it runs (only its own folder's files, only the operators of
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

from ..checkpoint import DECODER, ENCODER, CheckpointError
from ..pictures.pixels import ImageShape, as_image_batch
from . import onnx_graphs as graphs
from . import onnx_layouts as layouts
from . import onnx_sandbox as sandbox
from .autoencoder import Unavailable, standard_normal_codes
from .onnx_meta import DEFAULTS, OUTPUTS, read_onnx_json  # noqa: F401 -- onnx.json's reader, for callers

@dataclass
class Graph:
    """One graph in the model's worker (onnx_sandbox): its file, its name there, one item's input
    shape, a fixed batch size or None, how many items one call takes, the most values per item
    it may give before the load check, the values it gives per item (None until the load check
    has seen them) and the shape of one item of its output there."""
    file: Path
    sandbox: sandbox.Sandbox
    name: str
    item: tuple[int, ...]
    batch: int | None
    rows: int
    most: int
    per_item: int | None = None
    given: tuple[int, ...] | None = None

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
        out = self.sandbox.run(self.name, full, max_values=len(full) * (self.per_item or self.most))
        if out.ndim == 0 or len(out) != len(full):
            raise CheckpointError(f"{self.file}: gave an output of shape {tuple(out.shape)} for {len(full)} inputs; "
                                  "a graph must give one output per input")
        self.given = self.given or tuple(out.shape[1:])
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
    train. Images (B, C, H, W) of its image_shape in [0, 1] <-> codes (B, d), as for every model;
    the graphs' own layouts (`inputs` of the encoder, `outputs` of the decoder) and pixel range
    stay inside."""

    no_gradients = "an ONNX graph runs in onnxruntime, which computes no gradients"

    def __init__(self, encoder: Graph, decoder: Graph, latent_dim: int, meta: dict, card: dict,
                 first_layer: np.ndarray | str, inputs: layouts.Layout, outputs: layouts.Layout):
        super().__init__()
        self.encoder_graph, self.decoder_graph, self.meta = encoder, decoder, meta
        self._latent_dim, self._card, self._first_layer = latent_dim, card, first_layer
        self.inputs, self.outputs = inputs, outputs

    @property
    def image_shape(self) -> ImageShape:
        return self.inputs.shape

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
        """(B, C, H, W) in [0, 1] (or the display layout (B, H, W[, 3])) -> (B, d), through the
        graph's own layout and pixel range; ValueError naming both shapes for other images."""
        x = as_image_batch(x, self.image_shape)
        black, white = self.meta["input_range"]
        pixels = x.detach().cpu().numpy()
        if (black, white) != (0.0, 1.0):
            pixels = black + pixels * (white - black)
        codes = self.encoder_graph.run(self.inputs.to_graph(pixels))
        return torch.from_numpy(codes.reshape(len(x), -1)).to(x.device)

    def decode(self, z: torch.Tensor) -> torch.Tensor:
        """(B, d) -> (B, C, H, W) in [0, 1]."""
        out = torch.from_numpy(self.outputs.from_graph(self.decoder_graph.run(z.detach().cpu().numpy())))
        return (torch.sigmoid(out) if self.meta["output"] == "logits" else out).contiguous().to(z.device)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.decode(self.encode(x))


def _graphs(folder: Path, meta: dict) -> tuple[Graph, Graph, int | None, tuple, tuple]:
    """(encoder, decoder, code size where the graphs give it, the parsed graphs, their layouts
    (the decoder's None when the load check must read it)), checked; the two share one worker
    (onnx_sandbox), started by their first run."""
    enc_file, dec_file = folder / ENCODER, folder / DECODER
    (enc, enc_rows), (dec, dec_rows) = graphs.read_graph(enc_file), graphs.read_graph(dec_file)
    said = ImageShape.from_list(meta["image"]) if meta["image"] else None
    inputs, outputs = graphs.image_layouts(enc, dec, enc_file, dec_file, said)
    d_enc, d_dec = graphs.code_size(enc, enc_file, "output"), graphs.code_size(dec, dec_file, "input")
    for file, d in ((enc_file, d_enc), (dec_file, d_dec)):
        if d and d > graphs.MAX_CODE_SIZE:
            raise _too_long(file, d)
    if d_enc and d_dec and d_enc != d_dec:
        raise _mismatch(enc_file, dec_file, d_enc, d_dec)
    box = sandbox.Sandbox({"encoder": (enc_file, enc.SerializeToString()),
                           "decoder": (dec_file, dec.SerializeToString())})
    box.images = f"{inputs.shape} images"  # what the messages of its limits speak of
    most = max(inputs.shape.pixels, graphs.MAX_CODE_SIZE)  # values per item any output may have
    encoder = Graph(enc_file, box, "encoder", inputs.item, graphs.batch_size(enc, enc_file),
                    _rows(enc_file, enc_rows, graphs.batch_size(enc, enc_file), most), most)
    d = d_dec or d_enc or 0
    decoder = Graph(dec_file, box, "decoder", (d,), graphs.batch_size(dec, dec_file),
                    _rows(dec_file, dec_rows, graphs.batch_size(dec, dec_file), most), most)
    return encoder, decoder, d_enc or d_dec, (enc, dec), (inputs, outputs)


def _rows(file: Path, rows: int, batch: int | None, values: int) -> int:
    """How many items one call takes: `rows` (onnx_ops.plan_rows), at most as many as the memory
    the worker shares with the server holds, of `values` floats each in and out."""
    fits = sandbox.SLOT_BYTES // (4 * values)
    if batch and batch > fits:
        raise CheckpointError(f"{file}: made for a fixed batch of {batch:,}, over the {fits:,} images of its size "
                              "the explorer runs at once; export it with a free batch size (torch.onnx.export's "
                              "dynamic_shapes)")
    return min(rows, fits)


def _mismatch(enc_file: Path, dec_file: Path, d_enc: int, d_dec: int) -> CheckpointError:
    return CheckpointError(f"{enc_file} gives codes of size {d_enc} but {dec_file} takes codes of size "
                           f"{d_dec}; the two graphs must come from one autoencoder")


def _too_long(file: Path, d: int) -> CheckpointError:
    return CheckpointError(f"{file}: codes of size {d:,}, over the {graphs.MAX_CODE_SIZE:,} the explorer takes (the "
                           "largest aecore trains); export a model with a smaller code")


def _probe(encoder: Graph, decoder: Graph, d: int | None, meta: dict, inputs: layouts.Layout,
           outputs: layouts.Layout | None) -> tuple[int, layouts.Layout]:
    """Run a black, a grey and a white image through both graphs (as torch checkpoints are
    checked, checkpoint/weights.py): their codes and images must be finite, of one size per
    item, the images of the encoder's shape; (the code size, the decoder's output layout).
    CheckpointError naming the file otherwise."""
    black, white = meta["input_range"]
    grey = np.stack([np.full(inputs.shape.chw, black + v * (white - black), np.float32) for v in (0.0, 0.5, 1.0)])
    z = encoder.run(inputs.to_graph(grey))
    if z.shape[1] > graphs.MAX_CODE_SIZE:
        raise _too_long(encoder.file, z.shape[1])
    if d and z.shape[1] != d:
        raise _mismatch(encoder.file, decoder.file, z.shape[1], d)
    encoder.per_item, decoder.item = z.shape[1], (z.shape[1],)
    decoder.run(z)
    outputs = outputs or layouts.read([None, *decoder.given], decoder.file, "output", inputs.shape)
    graphs.same_images(inputs, outputs, encoder.file, decoder.file)
    decoder.per_item = inputs.shape.pixels
    return z.shape[1], outputs.ordered(inputs, meta["flat_order"])


def _card(meta: dict, inputs: layouts.Layout, outputs: layouts.Layout, d: int, enc: onnx.ModelProto,
          dec: onnx.ModelProto) -> dict[str, str]:
    widths = graphs.layer_widths(enc) + graphs.layer_widths(dec)
    black, white = meta["input_range"]
    return {
        "kind": meta["kind"],
        "body": f"ONNX graphs in onnxruntime: {ENCODER} ({len(enc.graph.node)} operators), "
                f"{DECODER} ({len(dec.graph.node)} operators)",
        "input": f"{inputs.name}, {inputs.shape} images, pixels from {black:g} (black) to {white:g} (white)",
        "output": f"{OUTPUTS[meta['output']]}, {outputs.name}",
        "layer sizes": " → ".join(["×".join(map(str, inputs.item)), *widths]) if widths else
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
    encoder, decoder, d, (enc, dec), (inputs, outputs) = _graphs(folder, meta)
    try:
        d, outputs = _probe(encoder, decoder, d, meta, inputs, outputs)
    except CheckpointError:
        encoder.sandbox.close()  # its worker ends now, not when the graphs are collected
        raise
    inputs = inputs.ordered(outputs, meta["flat_order"])
    try:
        first: np.ndarray | str = graphs.first_layer_weights(enc, inputs)
    except Unavailable as why:
        first = f"{why} in {ENCODER}"
    meta = dict(meta, image=inputs.shape.to_list())
    model = OnnxAutoencoder(encoder, decoder, d, meta, _card(meta, inputs, outputs, d, enc, dec), first, inputs, outputs)
    config = {"format": "onnx", "about": {"title": meta["name"]}, "dataset": {"name": meta["dataset"]},
              "history": [], "onnx": meta}
    return model.eval(), config
