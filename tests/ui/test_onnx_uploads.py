"""Models aecore never trained, uploaded in Chromium as a visitor would: the README's PyTorch
example (a zip of its folder) and a channels-last conv model (its .onnx files). Every page draws
with each; the Units page with the README model is compared with its baseline."""
import io
import re
import zipfile

import pytest
from onnx_factories import channels_last_folder, run_readme_example
from playwright.sync_api import expect
from snapshot import assert_matches

pytestmark = pytest.mark.browser

PAGES = {"Overview": "", "Latent map": "latent_map", "Generate": "generate", "Denoise": "denoise", "Units": "units"}


@pytest.fixture(scope="module")
def uploads(tmp_path_factory):
    """{name: files for set_input_files}: the README model as my-model.zip, and the
    channels-last model as its encoder.onnx and decoder.onnx (with their .data files)."""
    root = tmp_path_factory.mktemp("byo")
    readme = run_readme_example(root)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        for file in sorted(readme.iterdir()):  # fixed dates: the same bytes, the same upload folder
            z.writestr(zipfile.ZipInfo(f"my-model/{file.name}", (2020, 1, 1, 0, 0, 0)), file.read_bytes())
    keras_like = root / "keras-like"
    channels_last_folder(keras_like)
    return {"my-model": [{"name": "my-model.zip", "mimeType": "application/zip", "buffer": buf.getvalue()}],
            "keras-like": sorted(keras_like.iterdir())}


def upload(app, files) -> None:
    """Upload `files` in the sidebar; the upload becomes the picked checkpoint."""
    app.widget("upload").locator('input[type="file"]').set_input_files(files)
    expect(app.widget("checkpoint").get_by_role("combobox")).to_have_value(re.compile(r"\(upload\) · .* · 2-D$"))
    app.wait_idle()


def visit(app, title: str) -> None:
    """Open a page from the navigation, as a visitor does (the session and its upload stay)."""
    app.page.locator('[data-testid="stSidebarNavLink"]', has_text=title).click()
    app.page.wait_for_url(re.compile(rf"/{PAGES[title]}$"))
    app.wait_idle()


@pytest.mark.parametrize("name", ["my-model", "keras-like"])
def test_an_uploaded_onnx_model_works_on_every_page(app, uploads, name):
    app.open("")
    upload(app, uploads[name])
    main = app.page.locator('[data-testid="stMain"]')
    for title in PAGES:
        visit(app, title)
        assert app.errors() == [], (title, app.errors())
        drawn = [app.image_stats(img) for img in main.locator('[data-testid="stImage"] img').all()]
        assert drawn and max(s["max"] - s["min"] for s in drawn) > 100, (title, drawn)
        if title == "Units":  # no input gradient from a graph, and the page says why
            expect(main.get_by_text(re.compile("No weight image: no input gradient"))).to_be_visible()


def test_units_page_of_the_readme_model_matches_baseline(app, uploads, update_snapshots):
    app.open("")
    upload(app, uploads["my-model"])
    visit(app, "Units")
    assert app.errors() == []
    assert app.page.locator('[data-testid="stPlotlyChart"] .main-svg').count() >= 3
    assert_matches(app.screenshot(), "units_onnx", update_snapshots)
