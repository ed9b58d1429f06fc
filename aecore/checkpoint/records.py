"""What a checkpoint records beside its model, checked for the shapes the app reads: config.json's
"training", "dataset", "about" and "history" sections, and metrics.json. Each check raises
ValueError naming the entry that is wrong; aecore.checkpoint puts the file's name in front."""
from __future__ import annotations

from ..checks import shown
from ..config import TrainConfig


def _is_number(v) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def _need(ok: bool, where: str, value, expected: str) -> None:
    if not ok:
        raise ValueError(f"{where} is {shown(value)}; expected {expected}")


def _numbers(d, where: str) -> None:
    """An object of numbers ({"loss": 101.2, "recon": 99.0}); null stands for a missing value."""
    _need(isinstance(d, dict), where, d, "an object of numbers")
    for name, v in d.items():
        _need(v is None or _is_number(v), f"{where}[{shown(name)}]", v, "a number")


def check_history(history) -> None:
    """config.json's "history": one object per epoch, {"epoch": n, "train": {term: number},
    "val": {term: number} (optional), "seconds": number, ...}."""
    _need(isinstance(history, list), '"history"', history, "a list of one object per epoch")
    for i, record in enumerate(history):
        where = f'"history"[{i}]'
        _need(isinstance(record, dict), where, record, 'an object {"epoch": ..., "train": {...}}')
        epoch = record.get("epoch")
        _need(isinstance(epoch, int) and not isinstance(epoch, bool), f'{where}["epoch"]', epoch, "a whole number")
        _numbers(record.get("train"), f'{where}["train"]')
        if "val" in record:
            _numbers(record["val"], f'{where}["val"]')
        for key in ("seconds", "record_seconds"):
            if key in record:
                _need(_is_number(record[key]), f'{where}["{key}"]', record[key], "a number")


def check_about(about) -> None:
    """config.json's "about": {"title", "purpose", "twin": strings, "anchors": {metric:
    {"value": number, "source": string}}}, each optional."""
    _need(isinstance(about, dict), '"about"', about, "an object")
    for key in ("title", "purpose", "twin"):
        if about.get(key) is not None:
            _need(isinstance(about[key], str), f'"about"["{key}"]', about[key], "a string")
    anchors = about.get("anchors") or {}
    _need(isinstance(anchors, dict), '"about"["anchors"]', anchors, 'an object {metric: {"value": ...}}')
    for name, anchor in anchors.items():
        where = f'"about"["anchors"][{shown(name)}]'
        _need(isinstance(anchor, dict) and _is_number(anchor.get("value")), where, anchor,
              'an object {"value": number, "source": string}')
        _need(isinstance(anchor.get("source", ""), str), f'{where}["source"]', anchor.get("source"), "a string")


def check_sections(config: dict) -> None:
    """The sections of config.json besides "model" (checked by aecore.config), where present."""
    if config.get("training") is not None:
        TrainConfig.from_dict(config["training"])
    for key in ("dataset", "about"):
        if config.get(key) is not None:
            _need(isinstance(config[key], dict), f'"{key}"', config[key], "an object")
    if config.get("about") is not None:
        check_about(config["about"])
    if config.get("history") is not None:
        check_history(config["history"])
    if config.get("train_seconds") is not None:
        _need(_is_number(config["train_seconds"]), '"train_seconds"', config["train_seconds"], "a number")


def check_metrics(metrics) -> None:
    """metrics.json: {"metrics": {name: number}, "measured_on": {...}}, as aecore.measure.evaluate
    writes it."""
    _need(isinstance(metrics, dict), "metrics.json", metrics, 'an object {"metrics": {...}, "measured_on": {...}}')
    if metrics.get("metrics") is not None:
        _numbers(metrics["metrics"], '"metrics"')
    if metrics.get("measured_on") is not None:
        _need(isinstance(metrics["measured_on"], dict), '"measured_on"', metrics["measured_on"], "an object")
