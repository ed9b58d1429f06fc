"""How much a traversal row's picture changes along the row, read back through a canvas in the
browser: the mean difference (0-255, over the three channels) between its first and its last
tile. A row picture is `steps` tiles of `side` pixels with 1-pixel white lines, scaled up by a
whole factor."""
ROW_CHANGE_JS = """(img, [steps, side]) => {
  const c = document.createElement('canvas');
  [c.width, c.height] = [img.naturalWidth, img.naturalHeight];
  const g = c.getContext('2d');
  g.drawImage(img, 0, 0);
  const s = Math.round(img.naturalWidth / (steps * (side + 1) + 1));
  const tile = k => g.getImageData((1 + k * (side + 1)) * s, s, side * s, side * s).data;
  const first = tile(0), last = tile(steps - 1);
  let sum = 0;
  for (let i = 0; i < first.length; i += 4)
    sum += (Math.abs(first[i] - last[i]) + Math.abs(first[i + 1] - last[i + 1]) + Math.abs(first[i + 2] - last[i + 2])) / 3;
  return sum / (first.length / 4);
}"""


def row_changes(images, steps: int, side: int) -> list[float]:
    """The change along each row picture of the locator `images`."""
    return [img.evaluate(ROW_CHANGE_JS, [steps, side]) for img in images.all()]
