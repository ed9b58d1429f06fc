"""Screenshot comparison against committed baselines (tests/ui/snapshots/<name>.png).

A pixel counts as changed when it differs by more than THRESHOLD (0-255, the largest of its RGB
differences) from every pixel within one pixel of the same place in the other image, both ways:
anti-aliasing and sub-pixel shifts of an edge pass, a missing chart, a blank image or a moved
element do not. The comparison fails when the sizes differ, when more than MAX_CHANGED of all
pixels changed, or when one BLOCK x BLOCK tile lost more than MAX_IN_BLOCK of its pixels (a small
image gone blank is a small fraction of a full page, but not of its tile).

On failure the actual screenshot and a diff (changed pixels red over a faded baseline) go to
tests/ui/failures/, and the assertion message names both files.
"""
from __future__ import annotations

import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

HERE = Path(__file__).parent
SNAPSHOTS = HERE / "snapshots"
FAILURES = HERE / "failures"
THRESHOLD = 40        # per-channel difference, in 0-255 counts
MAX_CHANGED = 0.005   # fraction of all pixels
BLOCK, MAX_IN_BLOCK = 64, 0.10


@dataclass
class Comparison:
    changed: np.ndarray | None  # (H, W) bool, None when the sizes differ
    fraction: float             # changed pixels / all pixels
    worst_block: float          # changed fraction of the worst BLOCK x BLOCK tile
    problem: str                # "" when the images match

    @property
    def ok(self) -> bool:
        return not self.problem


def _rgb(png: bytes | Path) -> np.ndarray:
    """(H, W, 3) int16 pixels of a PNG given as bytes or a path."""
    source = io.BytesIO(png) if isinstance(png, bytes) else png
    with Image.open(source) as img:
        return np.asarray(img.convert("RGB"), dtype=np.int16)


def _far_from_neighbourhood(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """(H, W) bool: pixels of `a` farther than THRESHOLD from all 9 pixels around the same place in `b`."""
    h, w, _ = a.shape
    padded = np.pad(b, ((1, 1), (1, 1), (0, 0)), mode="edge")
    nearest = np.full((h, w), 255, np.int16)
    for dy in range(3):
        for dx in range(3):
            diff = np.abs(a - padded[dy:dy + h, dx:dx + w]).max(axis=2)
            np.minimum(nearest, diff, out=nearest)
    return nearest > THRESHOLD


def compare(actual: np.ndarray, expected: np.ndarray) -> Comparison:
    """Compare two (H, W, 3) images; see the module docstring for the rule."""
    if actual.shape != expected.shape:
        return Comparison(None, 1.0, 1.0, f"size {actual.shape[1]}x{actual.shape[0]} differs from the "
                                          f"baseline's {expected.shape[1]}x{expected.shape[0]}")
    changed = _far_from_neighbourhood(actual, expected) | _far_from_neighbourhood(expected, actual)
    fraction = float(changed.mean())
    h, w = changed.shape
    tiles = np.pad(changed, ((0, -h % BLOCK), (0, -w % BLOCK)))
    tiles = tiles.reshape(tiles.shape[0] // BLOCK, BLOCK, tiles.shape[1] // BLOCK, BLOCK)
    worst = float(tiles.mean(axis=(1, 3)).max())
    problem = ""
    if fraction > MAX_CHANGED:
        problem = f"{fraction:.2%} of the pixels changed (limit {MAX_CHANGED:.2%})"
    elif worst > MAX_IN_BLOCK:
        problem = f"{worst:.0%} of one {BLOCK}x{BLOCK} area changed (limit {MAX_IN_BLOCK:.0%})"
    return Comparison(changed, fraction, worst, problem)


def diff_image(expected: np.ndarray, changed: np.ndarray) -> Image.Image:
    """The baseline faded to 30%, with changed pixels in red."""
    faded = (255 - (255 - expected) * 0.3).astype(np.uint8)
    faded[changed] = (255, 0, 0)
    return Image.fromarray(faded)


def assert_matches(png: bytes, name: str, update: bool) -> None:
    """Compare a screenshot with snapshots/<name>.png; with update=True (pytest --update-snapshots)
    write it as the new baseline instead. Failures leave <name>.actual.png and <name>.diff.png in
    tests/ui/failures/."""
    baseline = SNAPSHOTS / f"{name}.png"
    if update:
        SNAPSHOTS.mkdir(parents=True, exist_ok=True)
        baseline.write_bytes(png)
        return
    FAILURES.mkdir(parents=True, exist_ok=True)
    actual_path, diff_path = FAILURES / f"{name}.actual.png", FAILURES / f"{name}.diff.png"
    actual_path.unlink(missing_ok=True)
    diff_path.unlink(missing_ok=True)
    if not baseline.is_file():
        actual_path.write_bytes(png)
        raise AssertionError(f"no baseline {baseline}; the screenshot is in {actual_path}. "
                             "Run `pytest tests/ui --update-snapshots` to accept it.")
    expected = _rgb(baseline)
    result = compare(_rgb(png), expected)
    if result.ok:
        return
    actual_path.write_bytes(png)
    saved = f"actual: {actual_path}"
    if result.changed is not None:
        diff_image(expected, result.changed).save(diff_path)
        saved += f", diff: {diff_path}"
    raise AssertionError(f"screenshot {name!r} differs from {baseline}: {result.problem} ({saved}). "
                         "If the change is intended, run `pytest tests/ui --update-snapshots`.")
