"""Taps on the maps select the tapped point, not the one tapped before.

Streamlit sets a selectable plotly scatter to clickmode "event+select". plotly's click-to-select
takes the point from the chart's last *hover*; a mouse hovers before it clicks, but a finger does
not, so on a touch screen every tap selected the point of the previous tap (and the first tap
nothing). This component, mounted once per page, sends plotly the hover a mouse would have sent:
a mousemove at the finger's position, just before the tap reaches the chart.

It depends on plotly's internals (its drag layer `.nsewdrag` and its hover on mousemove), so it
lives here alone, and tests/ui/test_phone.py fails when a Streamlit or plotly upgrade changes them.
"""
from __future__ import annotations

import streamlit as st

_JS = """
export default function () {
  if (window.__aecoreTouchHover) return;
  window.__aecoreTouchHover = true;
  document.addEventListener('pointerdown', e => {
    if (e.pointerType === 'mouse' || !e.target.closest) return;
    const layer = e.target.closest('.js-plotly-plot .nsewdrag');
    if (layer) layer.dispatchEvent(new MouseEvent('mousemove', {clientX: e.clientX, clientY: e.clientY, bubbles: true}));
  }, true);
}
"""
_component = st.components.v2.component("aecore.touch_hover", html="<span></span>", js=_JS)


def hover_before_tap() -> None:
    """Mount the fix (invisible; once per page run, in the sidebar)."""
    _component(key="touch_hover", width="content", height=0)
