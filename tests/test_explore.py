"""aecore.explore (aecore/notebook.py): what a notebook gives it is checked before any server starts,
its images become a dataset the pages read, a link opens the right checkpoint and data, and (slow)
one server per process takes every model and goes with its folder when stopped. The whole path in
a real Jupyter kernel and Chromium is tests/ui/test_notebook.py."""
from __future__ import annotations

import json
import subprocess
import sys
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
import torch
from factories import APP, CKPT_2D, CKPT_16D
from onnx_factories import linear_pair
from torch import nn

import aecore
from aecore import notebook
from aecore.checkpoint import CheckpointError, load_checkpoint
from aecore.data import datasets, load_dataset
from aecore.data.from_arrays import as_images, as_labels, write_dataset
from aecore.launch import healthy

REPO = Path(__file__).resolve().parents[1]


@pytest.fixture
def fresh():
    """No explorer session before or after the test."""
    notebook.stop()
    yield
    notebook.stop()


def digits(n: int = 40) -> tuple[np.ndarray, np.ndarray]:
    sample = load_dataset("mnist-sample", "test")
    return np.asarray(sample.images[:n]), np.asarray(sample.labels[:n])


def mlp(*sizes: int, end: nn.Module | None = None) -> nn.Sequential:
    layers = [nn.Flatten()] if sizes[0] == 784 else []
    for a, b in zip(sizes, sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU()]
    return nn.Sequential(*layers[:-1], *([end] if end else []))


class NaNs(nn.Module):
    def forward(self, x):
        return torch.full((len(x), 2), float("nan"))


BROKEN = {  # (encoder, decoder) -> what the message says
    "decoder's output size": (mlp(784, 2), mlp(2, 10, end=nn.Sigmoid()), "the decoder gave (16, 10) for 16 codes; it "
                               "must give images of the encoder's shape, 28x28 grey (784 values per code)"),
    "decoder taking another code": (mlp(784, 2), mlp(3, 784, end=nn.Sigmoid()),
                                    "the decoder does not take the encoder's codes, shape (16, 2)"),
    "NaN codes": (NaNs(), mlp(2, 784, end=nn.Sigmoid()), "NaN or infinite codes"),
    "codes that are not (B, d)": (nn.Identity(), mlp(2, 784), "it must give one code per image"),
    "pixels out of [0, 1]": (mlp(784, 2), mlp(2, 784), "pass output='logits'"),
    "a decoder that is not a module": (mlp(784, 2), "decoder.onnx", "the decoder is a str"),
}


@pytest.mark.parametrize("case", list(BROKEN))
def test_broken_modules_are_one_clear_error_before_any_server(fresh, case):
    encoder, decoder, words = BROKEN[case]
    images, labels = digits()
    with pytest.raises(notebook.ExploreError, match=None) as caught:
        aecore.explore(encoder, decoder, images, labels)
    assert words in str(caught.value)
    assert caught.value._render_traceback_() == [f"ExploreError: {caught.value}"]  # one line in Jupyter
    session = notebook._session
    assert session.server is None and not any((session.folder / "checkpoints").iterdir())
    assert not any((session.folder / "data").iterdir())  # nothing written for a model that failed


def test_modules_are_probed_with_the_notebooks_own_image_shape(fresh):
    """Colour images, given channels first as torch has them: a digit encoder is told which shape
    and layouts it was tried on; a decoder of digits, what the encoder's images need."""
    images = np.random.default_rng(0).random((20, 3, 32, 32), np.float32)
    with pytest.raises(notebook.ExploreError, match=r"the encoder failed on the images' shape, 32x32 colour \(3x32x32\), "
                                                    r"in every layout the explorer knows \(\(B, 3, 32, 32\), "):
        aecore.explore(mlp(784, 2), mlp(2, 784, end=nn.Sigmoid()), images)
    encoder = nn.Sequential(nn.Flatten(), nn.Linear(3072, 2))
    with pytest.raises(notebook.ExploreError, match=r"the decoder gave \(16, 784\) for 16 codes; it must give images "
                                                    r"of the encoder's shape, 32x32 colour \(3,072 values per code\)"):
        aecore.explore(encoder, mlp(2, 784, end=nn.Sigmoid()), images)
    assert notebook._session.server is None and not any((notebook._session.folder / "data").iterdir())


def test_what_explore_is_given_is_checked_first(fresh, tmp_path):
    images, labels = digits()
    for kwargs, words in (({"page": "Histogram"}, "unknown page 'histogram'"),
                          ({"output": "pixels"}, "output='pixels'"),
                          ({"input_range": (1, 0)}, "give (black, white)")):
        with pytest.raises(notebook.ExploreError, match=words.replace("(", r"\(").replace(")", r"\)")):
            aecore.explore(mlp(784, 2), mlp(2, 784, end=nn.Sigmoid()), images, labels, **kwargs)
    with pytest.raises(notebook.ExploreError, match="labels and classes go with images"):
        aecore.explore(mlp(784, 2), mlp(2, 784, end=nn.Sigmoid()), labels=labels)
    with pytest.raises(notebook.ExploreError, match="model is a int"):
        aecore.explore(3)
    with pytest.raises(notebook.ExploreError, match="neither an aecore checkpoint"):
        aecore.explore(tmp_path)
    with pytest.raises(notebook.ExploreError, match="pass the decoder graph's path too"):
        aecore.explore(tmp_path / "encoder.onnx")
    (tmp_path / "config.json").write_text("{}")
    with pytest.raises(notebook.ExploreError, match="pass no output"):
        aecore.explore(tmp_path, output="logits")
    assert notebook._session.server is None


def test_images_and_labels_as_a_notebook_has_them():
    images, labels = digits()
    floats = torch.tensor(images).float().div(255)
    for given in (images, floats, floats.unsqueeze(1), floats.unsqueeze(-1), floats.flatten(1), floats.numpy()):
        np.testing.assert_array_equal(as_images(given), images)
    for bad, words in ((floats * 2 - 1, "values from -1 to 1"), (floats[:, :5], "shape (40, 5, 28)"),
                       (images[:9], "9 images"), (images.astype(bool), "dtype bool")):
        with pytest.raises(ValueError, match=words.replace("(", r"\(").replace(")", r"\)")):
            as_images(bad)
    ids, names = as_labels(np.array(["dog", "cat", "dog"] + ["cat"] * 37), 40)
    assert names == ("cat", "dog") and ids[:3].tolist() == [1, 0, 1]
    assert as_labels(None, 40)[1] == ("unlabelled",)
    assert as_labels(torch.tensor(labels), 40, classes=[f"digit {d}" for d in range(10)])[1][3] == "digit 3"
    for bad, words in ((labels[:39], "for 40 images"), (labels - 1, "from -1"), (labels + 0.5, "dtype float64"),
                       (labels, "9 but 3 class names")):
        with pytest.raises(ValueError, match=words):
            as_labels(bad, 40, classes=["a", "b", "c"] if words.startswith("9") else None)


def test_the_images_are_a_dataset_beside_the_users_own(tmp_path, monkeypatch):
    """A notebook's .npz in one data folder, the user's sets in another: both listed, the
    first folder's set of a name first (AECORE_DATA_DIR joined by os.pathsep)."""
    images, labels = digits()
    ours, theirs = tmp_path / "ours", tmp_path / "theirs"
    ours.mkdir(), theirs.mkdir()
    write_dataset(ours / "notebook.npz", images, labels, tuple("abcdefghij"))
    write_dataset(theirs / "notebook.npz", images[:20], labels[:20], tuple("abcdefghij"))
    write_dataset(theirs / "mine.npz", images[:30], labels[:30], tuple("abcdefghij"))
    monkeypatch.setenv("AECORE_DATA_DIR", f"{ours}{':'}{theirs}")
    assert {"notebook", "mine"} <= set(datasets())
    test = load_dataset("notebook", "test")
    np.testing.assert_array_equal(test.images, images)
    assert test.classes == tuple("abcdefghij") and len(load_dataset("notebook", "train")) == 40
    assert len(load_dataset("mine", "test")) == 30


def test_onnx_json_may_name_a_users_own_dataset(tmp_path, monkeypatch):
    images, labels = digits()
    (tmp_path / "data").mkdir()
    write_dataset(tmp_path / "data" / "mine.npz", images, labels, tuple(str(d) for d in range(10)))
    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path / "data"))
    linear_pair(tmp_path / "model", meta={"dataset": "mine"})
    assert load_checkpoint(tmp_path / "model").dataset == "mine"
    linear_pair(tmp_path / "other", meta={"dataset": "nowhere"})
    with pytest.raises(CheckpointError, match="unknown dataset 'nowhere'"):
        load_checkpoint(tmp_path / "other")


def test_pages_by_title_or_path_and_the_link():
    assert [notebook.page_path(n) for n in ("Latent map", "latent_map", "Attribute vectors", "steer",
                                            "overview")] == ["latent_map", "latent_map", "steer", "steer", ""]
    view = notebook.Explorer("http://127.0.0.1:8765", "my model", "my data")
    assert view.url == "http://127.0.0.1:8765/latent_map?checkpoint=my+model&dataset=my+data"
    assert view.page("Generate").url.startswith("http://127.0.0.1:8765/generate?")
    assert f'<iframe src="{view.url.replace("&", "&amp;")}"' in view._repr_html_()
    with pytest.raises(notebook.ExploreError, match="valid.*latent map"):
        view.page("Lantent map")


def test_a_link_opens_its_checkpoint_and_dataset(app_env, tmp_path, monkeypatch):
    """?checkpoint=NAME&dataset=NAME picks both on a session's first run (as aecore.explore links);
    a dataset added while the app runs is listed at once."""
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("AECORE_DATA_DIR", str(tmp_path))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(checkpoint=CKPT_16D)
    at.run()
    assert at.session_state["checkpoint"] == str(app_env / CKPT_16D)
    images, labels = digits()
    write_dataset(tmp_path / "notebook.npz", images, labels, tuple(str(d) for d in range(10)))
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(checkpoint=CKPT_2D, dataset="notebook")
    at.run()
    assert at.session_state["checkpoint"] == str(app_env / CKPT_2D) and at.session_state["dataset"] == "notebook"
    at = AppTest.from_file(str(APP), default_timeout=60)
    at.query_params.update(checkpoint="no-such-checkpoint")
    at.run()
    assert at.session_state["checkpoint"] == str(app_env / CKPT_2D)  # the picker's first, as without a link
    assert not at.exception


@pytest.mark.slow
def test_one_server_takes_every_model_and_goes_with_its_folder(fresh, tmp_path):
    images, labels = digits(60)
    linear_pair(tmp_path / "graphs")
    first = aecore.explore(tmp_path / "graphs" / "encoder.onnx", tmp_path / "graphs" / "decoder.onnx", images,
                           labels, name="linear")
    second = aecore.explore(REPO / "checkpoints" / "ae-2d", images=images, labels=labels, page="Generate")
    third = aecore.explore(tmp_path / "graphs", name="linear")  # a name taken: another
    base = first.url.split("/latent_map")[0]
    assert second.url.startswith(f"{base}/generate?") and third.url.startswith(base) and healthy(base)
    folder = notebook._session.folder
    assert sorted(p.name for p in (folder / "checkpoints").iterdir()) == ["ae-2d", "linear", "linear-2"]
    assert [p.name for p in (folder / "data").iterdir()] == ["linear.npz"]  # the same images: one dataset
    assert urllib.parse.parse_qs(urllib.parse.urlsplit(second.url).query) == {"checkpoint": ["ae-2d"],
                                                                             "dataset": ["linear"]}
    onnx_json = json.loads((folder / "checkpoints" / "linear" / "onnx.json").read_text())
    assert onnx_json["dataset"] == "linear" and onnx_json["name"] == "linear"
    first.stop()
    assert not healthy(base) and not folder.exists()


@pytest.mark.slow
def test_another_process_gets_its_own_server_which_ends_with_it(fresh, tmp_path):
    linear_pair(tmp_path / "graphs")
    mine = aecore.explore(tmp_path / "graphs")
    script = (f"import aecore, aecore.notebook as nb\nv = aecore.explore({str(tmp_path / 'graphs')!r})\n"
              "print(v.url.split('/latent_map')[0], nb._session.folder)")
    out = subprocess.run([sys.executable, "-c", script], cwd=REPO, capture_output=True, text=True, timeout=300)
    base, folder = out.stdout.split()[-2:]
    assert out.stdout.startswith("The explorer shows graphs at ")  # printed outside Jupyter
    assert base != mine.url.split("/latent_map")[0] and healthy(mine.url.split("/latent_map")[0])
    assert not healthy(base) and not Path(folder).exists()  # stopped and removed at the process's exit


class Branches(nn.Module):
    """An encoder whose path depends on the data: it runs, but torch.export cannot trace it."""

    def __init__(self):
        super().__init__()
        self.a, self.b = mlp(784, 2), mlp(784, 2)

    def forward(self, x):
        return self.a(x) if x.mean() > 0.5 else self.b(x)


class Noisy(nn.Module):
    """An encoder that draws noise even in eval mode: no code of its own for an image."""

    def __init__(self):
        super().__init__()
        self.a = mlp(784, 2)

    def forward(self, x):
        return self.a(x) + torch.randn(len(x), 2)


@pytest.mark.slow
@pytest.mark.parametrize("encoder, words", [
    (Branches(), r"^the encoder could not be exported to ONNX by torch.onnx.export \(GuardOnDataDependentSymNode"),
    (Noisy(), r"^the exported graphs (were refused: encoder.onnx: |differ from the modules)")])
def test_a_module_that_cannot_be_exported_is_one_clear_error(fresh, capsys, encoder, words):
    images, labels = digits()
    with pytest.raises(notebook.ExploreError, match=words):
        aecore.explore(encoder, mlp(2, 784, end=nn.Sigmoid()), images, labels)
    assert notebook._session.server is None
    assert capsys.readouterr().err == ""  # the exporter's warnings and graphs stay out of the notebook


def test_the_readme_example_is_the_notebook_the_browser_test_runs():
    """README's "From a notebook" code is, as written, the cell tests/ui/test_notebook.py executes."""
    import nbformat
    readme = (REPO / "README.md").read_text().split("## From a notebook", 1)[1]
    example = readme.split("```python\n", 1)[1].split("```", 1)[0]
    cells = nbformat.read(REPO / "tests" / "notebooks" / "explore.ipynb", as_version=4).cells
    assert cells[-1].source.strip() == example.strip()
