"""Leaderboard: every checkpoint's metrics in one sortable table, with the in-house baselines and
the published anchors."""
import streamlit as st

from ui.frame import guard
from ui.tables import leaderboard, show_leaderboard

with guard():
    st.title("Leaderboard")
    table = leaderboard()
    if table.empty:
        st.info("No checkpoint has a metrics.json yet: run `python -m aecore evaluate CHECKPOINT --json`.")
    else:
        st.caption("Each checkpoint as measured here, the values published for the same kind of model "
                   "(row 'anchor'), and PCA and the median filter measured by the same code (row 'baseline'). "
                   "Click a column's header to sort; hover it for what the metric measures. 'None': not "
                   "published for that model, or not measurable for it.")
        show_leaderboard(table, key="leaderboard")
