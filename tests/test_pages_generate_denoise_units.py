"""AppTests of the Generate, Denoise and Units pages on the bundled sample, with the shared tiny
2-D plain and 16-D vae checkpoints, plus a tiny sparse and a tiny denoising one trained here."""

import pytest
from factories import CKPT_2D, CKPT_16D, clean, shared_checkpoints, train_tiny

from aecore.config import ModelConfig

GENERATE, DENOISE, UNITS = "pages/3_generate.py", "pages/4_denoise.py", "pages/5_units.py"
SPARSE, DENOISING = "tiny-sparse-32", "tiny-denoising-16d"


@pytest.fixture(scope="module")
def more_checkpoints(app_env, tmp_path_factory):
    """A folder with the two shared checkpoints plus a sparse (twin: the vae) and a denoising
    one (twin: the 2-D plain), used as AECORE_CHECKPOINTS for the tests that ask for it."""
    with shared_checkpoints(app_env, tmp_path_factory.mktemp("more") / "checkpoints") as folder:
        for name, kind, d, twin in [(SPARSE, "sparse", 32, CKPT_16D), (DENOISING, "denoising", 16, CKPT_2D)]:
            train_tiny(folder, name, ModelConfig(kind=kind, latent_dim=d, hidden=[64]),
                       {"title": name, "twin": twin}, evaluate=False)
        yield folder


def _captions(at):
    return [c.value for c in at.caption]


# what each page shows on the bundled sample: (plotly charts, images at least, a caption it starts)
SHOWN = {GENERATE: (1, 3, "16 samples from"), DENOISE: (2, 5, "gaussian noise at level 0.50"),
         UNITS: (3, 5, "All code values of the 1,000 test digits")}


@pytest.mark.parametrize("page", [GENERATE, DENOISE, UNITS])
@pytest.mark.parametrize("checkpoint", [CKPT_2D, CKPT_16D])
def test_page_shows_its_charts_images_and_captions(open_page, page, checkpoint):
    at = clean(open_page(page, checkpoint))
    charts, images, caption = SHOWN[page]
    assert len(at.get("plotly_chart")) == charts
    assert len(at.image) >= images
    assert any(c.startswith(caption) for c in _captions(at) + [i.proto.imgs[0].caption for i in at.image])
    if page == GENERATE:  # the decoded manifold only for a 2-D code; from the prior for a VAE
        assert any("samples from the prior" in c for c in _captions(at) + [i.proto.imgs[0].caption for i in at.image]) \
            == (checkpoint == CKPT_16D)
        assert any("15 x 15 grid" in i.proto.imgs[0].caption for i in at.image) == (checkpoint == CKPT_2D)


def test_interpolation_steps_set_the_number_of_frames(open_page):
    at = clean(open_page(GENERATE, CKPT_16D))
    assert any(c.startswith("8 frames") for c in _captions(at))
    at.slider(key="interp_steps").set_value(12)
    at.number_input(key="interp_b").set_value(5)
    clean(at.run())
    assert any(c.startswith("12 frames") and "to #5" in c for c in _captions(at))
    mean_code = [at.slider(key=f"dim_{i}").value for i in range(10)]
    at.button(key="dims_from_a").click()  # the code sliders jump to digit A's code
    clean(at.run())
    assert [at.slider(key=f"dim_{i}").value for i in range(10)] != pytest.approx(mean_code)


def test_noise_level_changes_the_psnr(open_page):
    at = clean(open_page(DENOISE, CKPT_2D))
    before = at.markdown[0].value
    assert "PSNR" in before and "median filter" in before
    at.slider(key="noise_level").set_value(0.9)
    clean(at.run())
    assert at.markdown[0].value != before
    at.button(key="random_digit").click()
    clean(at.run())
    assert not any("Test digit #0 " in c for c in _captions(at))


def test_drawing_without_a_drawing_asks_for_one(open_page):
    at = clean(open_page(DENOISE, CKPT_16D))
    at.radio(key="source").set_value("Draw")
    clean(at.run())
    assert any("Draw a digit" in i.value or "canvas" in i.value for i in at.info)


def test_denoising_model_is_compared_with_its_twin(more_checkpoints, open_page):
    at = clean(open_page(DENOISE, DENOISING))
    table = at.markdown[0].value
    assert f"denoising model ({DENOISING})" in table and f"plain model ({CKPT_2D})" in table


def test_changing_the_unit_changes_the_unit_view(more_checkpoints, open_page):
    at = clean(open_page(UNITS, SPARSE))
    labels = [m.label for m in at.metric]
    assert any(SPARSE in label for label in labels) and any(CKPT_16D in label for label in labels)
    before = [c for c in _captions(at) if c.startswith("Unit ")]
    at.selectbox(key="unit").set_value(7)
    clean(at.run())
    after = [c for c in _captions(at) if c.startswith("Unit ")]
    assert before and after and before != after and after[0].startswith("Unit 7")


def test_the_per_unit_activity_chart_shows_both_compared_models(more_checkpoints, open_page):
    import json
    at = clean(open_page(UNITS, SPARSE))
    (freq,) = [json.loads(c.proto.spec) for c in at.get("plotly_chart")
               if json.loads(c.proto.spec)["layout"].get("xaxis", {}).get("title", {}).get("text") == "unit"]
    names = [t["name"] for t in freq["data"]]
    assert len(names) == 2 and SPARSE in names[0] and CKPT_16D in names[1]
