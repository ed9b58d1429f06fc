"""A square canvas to draw a digit on: white strokes on black, with a mouse, a pen or a finger.

A Streamlit v2 component of a few lines of JavaScript. It replaced streamlit-drawable-canvas,
whose invisible floating toolbar lay over the canvas's top edge and swallowed every stroke that
started there (and, on a touch screen, where nothing hovers, it never moved away). Here nothing
overlaps the canvas: its one button, Clear, sits under it. The drawing comes back as a PNG,
read like any uploaded picture (bounded, checked) into RGBA pixels.
"""
from __future__ import annotations

import base64

import numpy as np
import streamlit as st

from aecore.pictures.images import ImageError, load_rgba

_HTML = '<div class="pad"><canvas></canvas><button type="button">Clear</button></div>'
_CSS = """
.pad { display: flex; flex-direction: column; align-items: flex-start; gap: 0.5rem; }
.pad canvas { touch-action: none; cursor: crosshair; border-radius: 0.25rem; max-width: 100%; }
.pad button { font: inherit; font-size: 0.875rem; padding: 0.25rem 0.75rem; cursor: pointer;
  border: 1px solid var(--st-border-color, #d0d7de); border-radius: 0.5rem;
  background: var(--st-secondary-background-color, #f4f6f9); color: var(--st-text-color, #1f2328); }
"""
# Strokes are drawn as the pointer moves; the picture is sent once, when the stroke ends.
_JS = """
const pads = new WeakMap();
export default function ({ parentElement, data, setStateValue }) {
  const canvas = parentElement.querySelector('canvas'), clear = parentElement.querySelector('button');
  if (pads.has(parentElement)) return;
  const size = data.size, g = canvas.getContext('2d');
  canvas.width = canvas.height = size;
  canvas.style.width = canvas.style.height = size + 'px';
  const blank = () => { g.fillStyle = '#000'; g.fillRect(0, 0, size, size); };
  blank();
  g.strokeStyle = g.fillStyle = '#fff';
  g.lineWidth = data.stroke; g.lineCap = g.lineJoin = 'round';
  let last = null;
  const at = e => { const r = canvas.getBoundingClientRect();
                    return [(e.clientX - r.left) * size / r.width, (e.clientY - r.top) * size / r.height]; };
  const down = e => { e.preventDefault(); canvas.setPointerCapture(e.pointerId); last = at(e);
                      g.fillStyle = '#fff'; g.beginPath(); g.arc(last[0], last[1], data.stroke / 2, 0, 2 * Math.PI); g.fill(); };
  const move = e => { if (!last) return; const p = at(e);
                      g.beginPath(); g.moveTo(last[0], last[1]); g.lineTo(p[0], p[1]); g.stroke(); last = p; };
  const up = () => { if (!last) return; last = null; setStateValue('png', canvas.toDataURL('image/png')); };
  const wipe = () => { blank(); setStateValue('png', null); };
  canvas.addEventListener('pointerdown', down); canvas.addEventListener('pointermove', move);
  canvas.addEventListener('pointerup', up); canvas.addEventListener('pointercancel', up);
  clear.addEventListener('click', wipe);
  pads.set(parentElement, true);
  return () => {
    canvas.removeEventListener('pointerdown', down); canvas.removeEventListener('pointermove', move);
    canvas.removeEventListener('pointerup', up); canvas.removeEventListener('pointercancel', up);
    clear.removeEventListener('click', wipe); pads.delete(parentElement);
  };
}
"""
_component = st.components.v2.component("aecore.drawing_pad", html=_HTML, css=_CSS, js=_JS)
PREFIX = "data:image/png;base64,"


def drawing(key: str, size: int, stroke: int = 18) -> np.ndarray | None:
    """A size x size canvas: the RGBA pixels (size, size, 4) uint8 drawn so far, or None before
    the first stroke (and after Clear). What the browser sends is checked as an upload is: a PNG
    of at most size x size pixels, else ImageError."""
    result = _component(key=key, data={"size": size, "stroke": stroke}, default={"png": None},
                        on_png_change=lambda: None, width="content", height="content")
    png = result.get("png")
    if not png:
        return None
    if not isinstance(png, str) or not png.startswith(PREFIX) or len(png) > 4 * size * size + 1000:
        raise ImageError("the drawing did not arrive as a small PNG: clear the canvas and draw again")
    try:
        raw = base64.b64decode(png[len(PREFIX):], validate=True)
    except ValueError:
        raise ImageError("the drawing did not arrive as a PNG: clear the canvas and draw again") from None
    return load_rgba(raw, max_pixels=size * size, name="the drawing")
