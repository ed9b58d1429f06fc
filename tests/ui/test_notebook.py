"""A real notebook: tests/notebooks/explore.ipynb, executed by nbclient in a Jupyter kernel, trains
a tiny autoencoder and calls aecore.explore (README, "From a notebook"); Chromium then opens the
URL of the iframe the notebook shows and finds the notebook's own points on the Latent map. A
second model from the same kernel joins the same server's picker; the kernel's shutdown ends it all."""
from __future__ import annotations

import html
import re
import time
import urllib.parse
from pathlib import Path

import numpy as np
import pytest
from conftest import new_app, picked
from playwright.sync_api import expect

from aecore.launch import healthy

pytestmark = [pytest.mark.browser, pytest.mark.slow]
REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = REPO / "tests" / "notebooks" / "explore.ipynb"
# the map's points in data coordinates, by trace (the click grid left out), with their indexes
POINTS_JS = """gd => gd._fullData.filter(t => t.visible === true && t.name !== 'grid').map(t => ({
  name: t.name, x: Array.from(t.x), y: Array.from(t.y),
  index: Array.from(t.customdata || [], c => Array.isArray(c) ? c[0] : c)}))"""


def cell(source: str):
    from nbformat.v4 import new_code_cell
    return new_code_cell(source)


def text_of(outputs: list, mime: str = "text/plain") -> str:
    """A cell's printed text, or its result's `mime` representation."""
    for out in outputs:
        if out["output_type"] == "stream":
            return out["text"]
        if out["output_type"] == "error":
            raise AssertionError("\n".join(out["traceback"])[-3000:])
        if mime in out.get("data", {}):
            return out["data"][mime]
    raise AssertionError(f"no output in {outputs}")


def shown_points(app) -> tuple[np.ndarray, np.ndarray, set[str]]:
    """((n, 2) positions, (n,) indexes, trace names) of the Latent map's points."""
    traces = app.widget("map").locator(".js-plotly-plot").evaluate(POINTS_JS)
    xy = np.concatenate([np.stack([t["x"], t["y"]], axis=1) for t in traces])
    return xy, np.concatenate([t["index"] for t in traces]).astype(int), {t["name"] for t in traces}


def open_link(browser, url: str):
    base = url.split("/latent_map")[0]
    app = new_app(browser, base)
    app.page.goto(url)
    app.wait_idle()
    return app


def test_a_notebook_opens_its_own_model_in_the_explorer(browser, tmp_path, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    monkeypatch.setenv("AECORE_NO_WARMUP", "1")  # the kernel's server inherits it: no page here needs UMAP
    monkeypatch.setenv("AECORE_CACHE_DIR", str(tmp_path / "cache"))
    nb = nbformat.read(NOTEBOOK, as_version=4)
    shown = len(nb.cells) - 1  # the last cell shows the explorer
    nb.cells += [cell(f"import numpy as np\nwith torch.no_grad():\n    np.save({str(tmp_path / 'codes.npy')!r}, "
                      "encoder(images).numpy())\nprint(aecore.notebook._session.folder)"),
                 cell("other = aecore.explore(nn.Sequential(nn.Flatten(), nn.Linear(784, 3)),\n"
                      "                      nn.Sequential(nn.Linear(3, 784), nn.Sigmoid()), images[:200], name='three-d')\n"
                      "print(other.url)")]
    client = NotebookClient(nb, kernel_name="python3", timeout=600, resources={"metadata": {"path": str(REPO)}})
    start = time.monotonic()
    with client.setup_kernel():
        for index, c in enumerate(nb.cells):
            client.execute_cell(c, index)
        print(f"\nthe notebook ran in {time.monotonic() - start:.0f} s")
        iframe = text_of(nb.cells[shown].outputs, "text/html")
        url = html.unescape(re.search(r'<iframe src="([^"]+)"', iframe).group(1))
        folder, other = Path(text_of(nb.cells[-2].outputs).strip()), text_of(nb.cells[-1].outputs).strip()
        assert url.startswith("http://127.0.0.1:") and other.startswith(url.split("/latent_map")[0] + "/")

        app = open_link(browser, url)
        expect(app.widget("checkpoint").get_by_role("combobox")).to_have_value(picked("notebook"))
        expect(app.page.get_by_text("All 500 images of notebook (the test split)", exact=False)).to_be_visible()
        xy, index, names = shown_points(app)
        codes = np.load(tmp_path / "codes.npy")
        assert sorted(index) == list(range(500)) and names <= {str(d) for d in range(10)}
        np.testing.assert_allclose(xy, codes[index], atol=1e-3)  # its own codes, through its ONNX export
        assert app.errors() == []
        app.page.context.close()

        app = open_link(browser, other)  # the second model: 200 images, on the same server's picker
        expect(app.page.get_by_text("All 200 images of three-d (the test split)", exact=False)).to_be_visible()
        assert len(shown_points(app)[1]) == 200
        app.widget("checkpoint").get_by_role("combobox").click()
        options = app.page.get_by_role("option").all_inner_texts()
        assert [o.split(" ")[0] for o in options] == ["notebook", "three-d"], options
        app.page.context.close()
    # the kernel has shut down, as when a notebook is closed or its kernel restarted
    assert not healthy(urllib.parse.urlsplit(url)._replace(path="", query="").geturl())
    assert not folder.exists()
    print(f"the whole test: {time.monotonic() - start:.0f} s")
