"""Checks of aecore.pictures: noise, pixels and images."""
import io

import numpy as np
import pytest
import torch
from PIL import Image, ImageDraw

from aecore.pictures import images, noise, pixels
from aecore.pictures.images import ImageError


# --- noise ---

@pytest.mark.parametrize("kind", sorted(noise.NOISES))
def test_noise_reproducible_and_in_range(kind):
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    a, b = noise.corrupt(x, kind, 0.3, generator=7), noise.corrupt(x, kind, 0.3, generator=7)
    assert torch.equal(a, b) and a.shape == x.shape
    assert a.min() >= 0 and a.max() <= 1
    assert not torch.equal(a, noise.corrupt(x, kind, 0.3, generator=8))
    as_numpy = noise.corrupt(x.numpy(), kind, 0.3, generator=7)
    assert isinstance(as_numpy, np.ndarray) and as_numpy.dtype == np.float32
    assert np.array_equal(as_numpy, a.numpy())


def test_salt_pepper_fraction():
    x = torch.full((20, 1, 28, 28), 0.5)
    out = noise.corrupt(x, "salt_pepper", 0.2, generator=0)
    changed = out != x
    assert abs(changed.float().mean().item() - 0.2) < 0.01
    assert abs((out[changed] == 1).float().mean().item() - 0.5) < 0.03


def test_masking_and_gaussian_levels():
    x = torch.full((20, 1, 28, 28), 0.5)
    assert abs((noise.corrupt(x, "masking", 0.3, generator=0) == 0).float().mean() - 0.3) < 0.01
    assert abs((noise.corrupt(x, "gaussian", 0.1, generator=0) - x).std() - 0.1) < 0.005
    assert torch.equal(noise.corrupt(x, "masking", 0.0, generator=0), x)


def test_noise_errors():
    x = torch.zeros(1, 1, 28, 28)
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        noise.corrupt(x, "salt_pepper", 1.5)
    with pytest.raises(ValueError, match=">= 0"):
        noise.corrupt(x, "gaussian", -0.1)
    with pytest.raises(ValueError, match="gaussian, salt_pepper, masking"):
        noise.corrupt(x, "speckle", 0.1)
    with pytest.raises(ValueError, match="255"):
        noise.corrupt(np.zeros((2, 28, 28), np.uint8), "masking", 0.1)


# --- images: output ---

def test_tile_shapes_and_padding():
    imgs = np.random.default_rng(0).random((5, 28, 28)).astype(np.float32)
    grid = images.tile(imgs, ncols=3, pad=1)
    assert grid.shape == (2 * 29 + 1, 3 * 29 + 1) and grid.dtype == np.float32
    assert np.array_equal(grid[1:29, 1:29], imgs[0])
    assert np.all(grid[30:58, 59:87] == 1.0)  # the empty sixth cell
    as_uint8 = images.tile(pixels.to_uint8(imgs), ncols=10, pad=0)
    assert as_uint8.shape == (28, 140) and as_uint8.dtype == np.uint8


def test_png_and_gif_bytes():
    img = np.linspace(0, 1, 28 * 28).reshape(28, 28)
    buf = io.BytesIO()
    Image.fromarray(pixels.to_uint8(img)).save(buf, format="PNG")
    back = images.load_picture(buf.getvalue())
    assert np.allclose(back, pixels.to_uint8(img) / 255.0)
    gif = Image.open(io.BytesIO(images.gif_bytes(np.stack([img, 1 - img, img * 0.5]), scale=3)))
    assert gif.n_frames == 3 and gif.size == (84, 84)


# --- images: input ---

def _png(img: Image.Image, **kw) -> bytes:
    buf = io.BytesIO()
    img.save(buf, format="PNG", **kw)
    return buf.getvalue()


def test_text_file_is_rejected():
    with pytest.raises(ImageError, match=r"not an image PIL can read.*notes\.png"):
        images.load_picture(b"just some text, renamed", name="notes.png")


def test_size_limits():
    with pytest.raises(ImageError, match="MiB"):
        images.load_picture(b"x" * 2000, max_bytes=1000)
    big = _png(Image.new("L", (100, 100), 255))
    with pytest.raises(ImageError, match="100 x 100"):
        images.load_picture(big, max_pixels=1000)


def test_alpha_on_white_and_exif_orientation():
    clear = Image.new("RGBA", (10, 6), (0, 0, 0, 0))
    assert np.all(images.load_picture(_png(clear)) == 1.0)
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees to display
    rotated = images.load_picture(_png(Image.new("L", (10, 6), 0), exif=exif))
    assert rotated.shape == (10, 6)


def _centre_of_mass(a):
    ys, xs = np.indices(a.shape)
    return (ys * a).sum() / a.sum(), (xs * a).sum() / a.sum()


def test_mnist_style_centres_a_corner_stroke():
    canvas = Image.new("L", (200, 200), 255)  # black ink on white paper, top-left corner
    ImageDraw.Draw(canvas).line([(15, 10), (45, 70)], fill=0, width=8)
    gray = images.load_picture(_png(canvas))
    out = images.mnist_style(gray)
    assert out.shape == (28, 28) and out.dtype == np.float32
    assert out.min() >= 0 and out.max() == pytest.approx(1.0)
    cy, cx = _centre_of_mass(out)
    assert abs(cy - 13.5) <= 0.55 and abs(cx - 13.5) <= 0.55
    ink_rows = np.flatnonzero(out.max(axis=1) > 0.05)
    ink_cols = np.flatnonzero(out.max(axis=0) > 0.05)
    assert ink_rows.min() >= 4 and ink_rows.max() <= 23 and ink_cols.min() >= 4 and ink_cols.max() <= 23
    assert ink_rows.max() - ink_rows.min() + 1 == 20  # the long side fills the 20-pixel box
    assert out[0].max() == 0 and out[:, 0].max() == 0  # white on black: the border is dark


def test_mnist_style_empty_and_canvas():
    with pytest.raises(ImageError, match="empty"):
        images.mnist_style(np.ones((50, 50)))
    rgba = np.zeros((100, 100, 4), np.uint8)  # transparent background, black stroke
    rgba[60:90, 70:76] = (0, 0, 0, 255)
    transparent = images.mnist_style(images.from_canvas_rgba(rgba))
    rgba[..., 3] = 255  # opaque black background, white stroke
    rgba[60:90, 70:76, :3] = 255
    opaque = images.mnist_style(images.from_canvas_rgba(rgba))
    assert np.allclose(transparent, opaque)
    assert abs(_centre_of_mass(opaque)[1] - 13.5) <= 0.55
    with pytest.raises(ImageError, match="empty"):
        images.mnist_style(images.from_canvas_rgba(np.zeros((40, 40, 4), np.uint8)))


def test_pixels_become_unit_floats_and_batches_whatever_they_were():
    imgs = np.array([[[0, 255], [51, 102]]], dtype=np.uint8)
    imgs.setflags(write=False)  # dataset arrays are read-only
    f = pixels.unit_float(imgs)
    assert f.dtype == np.float32 and f.flags.writeable and f.max() == 1.0 and abs(f[0, 1, 0] - 0.2) < 1e-6
    digits = np.random.default_rng(0).integers(0, 256, (3, 28, 28), dtype=np.uint8)
    batch = pixels.as_image_batch(digits)
    assert batch.shape == (3, 1, 28, 28) and batch.dtype == torch.float32
    for same in (digits / 255.0, digits.reshape(3, 784), torch.from_numpy(digits)[:, None]):
        assert torch.allclose(pixels.as_image_batch(same), batch)
    assert pixels.as_image_batch(batch) is batch  # already a batch: no copy
    with pytest.raises(ValueError, match="5x5 pixels; the explorer takes sides of 8 to 128"):
        pixels.image_stack(np.zeros((2, 5, 5)))
    with pytest.raises(ValueError, match=r"got shape \(2, 4, 4, 4, 1\)"):
        pixels.image_stack(np.zeros((2, 4, 4, 4, 1)))


def test_drawn_and_uploaded_pictures_become_28x28_inputs():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[60:220, 130:150] = 255  # a white vertical stroke, opaque
    seen = images.canvas_input(canvas)
    assert seen.shape == (28, 28) and seen.max() == pytest.approx(1.0)
    with pytest.raises(ImageError, match="empty"):
        images.canvas_input(np.zeros((280, 280, 4), np.uint8))
    buf = io.BytesIO()
    Image.fromarray(255 - canvas[..., 0]).save(buf, format="PNG")  # dark ink on white
    assert np.allclose(images.picture_input(buf.getvalue()), seen, atol=0.05)
    with pytest.raises(ImageError, match="not an image"):
        images.picture_input(b"hello", name="notes.txt")


def test_a_float_picture_holding_nan_or_infinity_is_refused():
    for bad in (np.nan, np.inf):
        with pytest.raises(ImageError, match="NaN or infinite pixel values: save it as a PNG or JPEG"):
            images.picture_input(_float_tiff_with(bad), name="scan.tif")


def _float_tiff_with(bad: float) -> bytes:
    """A 20x20 float TIFF (what a scanner or a notebook may save) with one pixel `bad`."""
    pixels = np.zeros((20, 20), np.float32)
    pixels[5, 5] = bad
    buf = io.BytesIO()
    Image.fromarray(pixels, "F").save(buf, format="TIFF")
    return buf.getvalue()


def test_a_large_photo_is_averaged_down_before_it_becomes_an_input():
    photo = np.zeros((3000, 2000), np.float32)
    photo[600:2400, 900:1100] = 1.0  # a tall bar: a "1"
    small = images.shrink(photo, 1024)
    assert small.shape == (1000, 666) and small.dtype == np.float32
    assert abs(small.mean() - photo[:3000, :1998].mean()) < 1e-6
    assert images.shrink(photo[:1, :], 1024).shape == (1, 1000)  # a sliver stays a sliver
    np.testing.assert_allclose(images.mnist_style(small), images.mnist_style(photo[::3, ::3]), atol=0.05)


# --- inputs of other shapes: grey of another side, colour photos ---

def test_a_drawing_becomes_the_input_of_a_grey_model_of_another_side():
    canvas = np.zeros((280, 280, 4), np.uint8)
    canvas[60:220, 130:150] = 255  # a white vertical stroke
    small = images.canvas_input(canvas, pixels.ImageShape(1, 16, 16))
    assert small.shape == (16, 16) and small.max() == pytest.approx(1.0)
    rows = np.flatnonzero(small.max(axis=1) > 0.05)
    assert rows.max() - rows.min() + 1 == 11  # the long side fills 20/28 of the side, as in MNIST
    assert abs(_centre_of_mass(small)[0] - 7.5) <= 0.55
    assert images.canvas_input(canvas).shape == (28, 28)  # the default stays MNIST's
    with pytest.raises(ValueError, match="32x32 colour"):
        images.canvas_input(canvas, pixels.ImageShape(3, 32, 32))


def _photo(w=300, h=200) -> Image.Image:
    """A landscape photo: red left third, green middle, blue right third."""
    a = np.zeros((h, w, 3), np.uint8)
    a[:, : w // 3, 0], a[:, w // 3: 2 * w // 3, 1], a[:, 2 * w // 3:, 2] = 255, 255, 255
    return Image.fromarray(a)


def test_a_photo_is_centre_cropped_and_resized_to_a_colour_models_shape():
    photo = images.photo_input(_png(_photo()), pixels.ImageShape(3, 32, 32), name="holiday.png")
    assert photo.image.shape == (32, 32, 3) and photo.image.dtype == np.float32
    assert "300 x 200 picture, centre-cropped to 200 x 200, resized to 32 x 32" in photo.note
    # the crop keeps the middle 200 of 300 columns: a sixth of the red, all the green, a sixth of the blue
    red, green, blue = photo.image[16].T
    assert green[10:22].min() > 0.95 and red[:6].min() > 0.95 and blue[-6:].min() > 0.95
    assert red[10:].max() < 0.1 and green[:6].max() < 0.1  # red ends a quarter of the way: 8 of 32
    tall = images.photo_input(_png(_photo(32, 64)), pixels.ImageShape(3, 64, 32))
    assert tall.image.shape == (64, 32, 3) and "centre-cropped" not in tall.note and "resized" not in tall.note
    grey = images.photo_input(_png(Image.new("L", (50, 50), 128)), pixels.ImageShape(3, 16, 16))
    assert np.allclose(grey.image, 128 / 255, atol=1 / 255)  # a grey picture is grey in all three channels


def _claims(w: int, h: int) -> bytes:
    """A small PNG whose header claims w x h pixels (a decompression bomb's first bytes)."""
    import struct
    import zlib
    png = _png(Image.new("RGB", (8, 8)))
    ihdr = b"IHDR" + struct.pack(">II", w, h) + png[24:29]
    return png[:12] + ihdr + struct.pack(">I", zlib.crc32(ihdr)) + png[33:]


def test_uploaded_photos_keep_the_bounds_of_every_upload():
    shape = pixels.ImageShape(3, 32, 32)
    with pytest.raises(ImageError, match="not an image PIL can read.*notes.png"):
        images.photo_input(b"just text", shape, name="notes.png")
    with pytest.raises(ImageError, match="5000 x 4000 pixels; the limit is"):
        images.photo_input(_claims(5000, 4000), shape)  # refused from its header, before decoding
    with pytest.raises(ImageError, match="MiB"):
        images.photo_input(b"\x89PNG" + bytes(11 * 2**20), shape)
    clear = images.photo_input(_png(Image.new("RGBA", (40, 40), (255, 0, 0, 0))), shape)
    assert np.allclose(clear.image, 1.0)  # transparency on white, as a viewer shows it
    for bad in (np.nan, np.inf):
        with pytest.raises(ImageError, match="NaN or infinite"):
            images.photo_input(_float_tiff_with(bad), shape)
