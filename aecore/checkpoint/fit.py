"""Where data meet a model: the one check that a dataset's images are of the shape a model takes
(training a model on a set, resuming, evaluating, and every page that shows a checkpoint on a
dataset). Needs no torch: a model, a ModelConfig or a bare ImageShape says the shape."""
from __future__ import annotations

from ..pictures.pixels import MNIST, ImageShape


def data_shape(data) -> ImageShape:
    """The shape of a Dataset's images (its `shape`, else read off its uint8 display-layout stack)."""
    shape = getattr(data, "shape", None)
    return shape if isinstance(shape, ImageShape) else ImageShape.of(data.images)


def model_shape(model) -> ImageShape:
    """The shape of the images a model takes: an ImageShape as it is; a model's or a ModelConfig's
    image_shape; MNIST for a module from before shapes were recorded."""
    if isinstance(model, ImageShape):
        return model
    return getattr(model, "image_shape", None) or MNIST


def check_fit(model, data, model_name: str = "", dataset_name: str = "") -> ImageShape:
    """The shape both have, or ValueError naming both shapes: "model X takes 32x32 colour images
    (3x32x32); dataset Y has 28x28 grey images (1x28x28). Pick a model and a dataset of the same
    image shape." `data` is a Dataset (its name is used unless `dataset_name` is given)."""
    mine, theirs = model_shape(model), data_shape(data)
    dataset_name = dataset_name or getattr(data, "name", "")
    mine.check_same(theirs, f"model {model_name}" if model_name else "the model",
                    f"dataset {dataset_name}" if dataset_name else "the dataset")
    return mine
