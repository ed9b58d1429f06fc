"""The command line's flags for the config dataclasses: one --flag per field, typed from its
default, and the ModelConfig/TrainConfig they give back (a flag of another kind is an error)."""
from __future__ import annotations

import argparse
from dataclasses import fields

from .config import KIND_OPTIONS, ModelConfig, TrainConfig


def _settings(cls) -> list:
    return [f for f in fields(cls) if f.name != "options"]


def add_config_args(parser: argparse.ArgumentParser, cls, title: str | None = None) -> None:
    """One --flag per config field, typed from the field's default."""
    group = parser.add_argument_group(title) if title else parser
    for f in _settings(cls):
        default = f.default_factory() if callable(f.default_factory) else f.default
        flag = "--" + f.name.replace("_", "-")
        if f.name == "image":
            group.add_argument(flag, type=int, nargs=3, default=None, metavar=("C", "H", "W"),
                               help="channels (1 grey, 3 colour), height and width of the images "
                                    "(default: the training set's; another is an error)")
        elif isinstance(default, list):
            group.add_argument(flag, type=int, nargs="*", default=None, help=f"(default {default})")
        elif isinstance(default, bool):
            group.add_argument(flag, type=_yes_no, default=None, metavar="yes|no", help=f"(default {default})")
        else:
            group.add_argument(flag, type=type(default), default=None, help=f"(default {default})")


def _yes_no(text: str) -> bool:
    """A boolean flag's value: yes/true/1 or no/false/0."""
    value = {"yes": True, "true": True, "1": True, "no": False, "false": False, "0": False}.get(text.lower())
    if value is None:
        raise argparse.ArgumentTypeError(f"expected yes or no, got {text!r}")
    return value


def model_config_from_args(args: argparse.Namespace) -> ModelConfig:
    """The shared settings and the kind's own; a flag of another kind is an error. Without
    --image, the model takes MNIST's (cmd_train sets it from the training set first)."""
    names = [f.name for cls in (ModelConfig, *KIND_OPTIONS.values()) for f in _settings(cls)]
    return ModelConfig.from_flat({n: getattr(args, n) for n in names if getattr(args, n) is not None})


def train_config_from_args(args: argparse.Namespace) -> TrainConfig:
    given = {f.name: getattr(args, f.name) for f in fields(TrainConfig)}
    return TrainConfig(**{name: value for name, value in given.items() if value is not None})


def add_model_and_training_flags(parser: argparse.ArgumentParser) -> None:
    """`aecore train`'s settings: the model's, each kind's own, then the training's."""
    add_config_args(parser, ModelConfig, "model")
    for kind, options in KIND_OPTIONS.items():
        if fields(options):
            add_config_args(parser, options, f"{kind} model only")
    add_config_args(parser, TrainConfig, "training")
