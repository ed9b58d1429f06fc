"""Small checks every module shares: a name looked up in a registry, a config field's value
against what it allows, and a seed or generator."""
from __future__ import annotations

import json
import math
from dataclasses import MISSING, fields
from typing import Callable, TypeVar

V = TypeVar("V")
Rule = Callable[[object, str], "str | None"]  # (value, field) -> None when allowed, else what is allowed


def shown(value, limit: int = 60) -> str:
    """A value as config.json spells it (null, true, "text", [1, 2]), cut to `limit` characters."""
    try:
        text = json.dumps(value, allow_nan=True)
    except (TypeError, ValueError):
        text = repr(value)
    except RecursionError:  # nested deeper than Python recurses
        text = f"a {type(value).__name__} nested too deep to show"
    return text if len(text) <= limit else text[:limit - 3] + "..."


def lookup(registry: dict[str, V], name: str, what: str) -> V:
    """registry[name], or ValueError "unknown <what> 'x'; valid: a, b, c" (registries are plain dicts)."""
    if not isinstance(name, str) or name not in registry:
        found = repr(name) if len(repr(name)) <= 60 else repr(name)[:57] + "..."
        raise ValueError(f"unknown {what} {found}; valid: {', '.join(registry)}")
    return registry[name]


def whole(low: int, high: int) -> Rule:
    """A whole number (not true/false, not 2.0) from low to high."""
    def rule(v, field):
        ok = isinstance(v, int) and not isinstance(v, bool) and low <= v <= high
        return None if ok else f"a whole number from {low:,} to {high:,}"
    return rule


def number(low: float, high: float, low_open: bool = False, high_open: bool = False) -> Rule:
    """A finite number (int or float, not true/false) in the interval; *_open excludes that end."""
    def rule(v, field):
        ok = isinstance(v, (int, float)) and not isinstance(v, bool) \
            and (isinstance(v, int) or math.isfinite(v)) and (low < v if low_open else low <= v) and (v < high if high_open else v <= high)
        return None if ok else f"a number in {'(' if low_open else '['}{low:g}, {high:g}{')' if high_open else ']'}"
    return rule


def sizes(low: int, high: int, max_len: int) -> Rule:
    """A list of at most max_len whole numbers, each from low to high."""
    each = whole(low, high)
    def rule(v, field):
        ok = isinstance(v, (list, tuple)) and len(v) <= max_len and all(each(x, field) is None for x in v)
        return None if ok else f"a list of at most {max_len} whole numbers, each from {low:,} to {high:,}"
    return rule


def names(registry: dict | Callable[[], dict]) -> Rule:
    """One of the registry's names (a dict, or a function giving it, read when checked); a
    name it lacks raises lookup's "unknown <field> 'x'; valid: ..." itself."""
    def rule(v, field):
        lookup(registry() if callable(registry) else registry, v, field)
    return rule


def like(default) -> Rule:
    """For a field without a rule of its own: a value of its default's type (a float field also
    takes a whole number), a string of at most 200 characters."""
    kind = type(default)
    def rule(v, field):
        ok = type(v) is kind or (kind is float and type(v) is int)
        ok = ok and not (isinstance(v, float) and not math.isfinite(v)) and not (isinstance(v, str) and len(v) > 200)
        return None if ok else f"a {kind.__name__} like its default {shown(default)}"
    return rule


def check_fields(obj, rules: dict[str, Rule], what: str, skip: tuple[str, ...] = ()) -> None:
    """Raise ValueError naming the first field of the dataclass `obj` whose value its rule
    refuses: '<what> field "f" is <found>; expected <what is allowed>'. A field without a rule
    must have its default's type (see `like`)."""
    for f in fields(obj):
        if f.name in skip:
            continue
        name, value = f.name, getattr(obj, f.name)
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        rule = rules.get(name) or like(default)
        if (allowed := rule(value, name)) is not None:
            raise ValueError(f'{what} field "{name}" is {shown(value)}; expected {allowed}')


def as_generator(seed):
    """A torch.Generator passes through; an int seeds a new CPU generator (same seed, same draws);
    None stays None: torch's global generator (seed it with torch.manual_seed)."""
    import torch  # here: the CLI's download command never imports torch

    if seed is None or isinstance(seed, torch.Generator):
        return seed
    return torch.Generator().manual_seed(int(seed))
