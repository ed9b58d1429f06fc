"""Tables of metrics: one checkpoint's metrics beside the published anchors (Overview, Compare),
and every checkpoint's in one sortable leaderboard with the baselines and anchors."""
from __future__ import annotations

from pathlib import Path

import pandas as pd
import streamlit as st

from aecore.checkpoint import Checkpoint
from aecore.measure.card import DESCRIPTIONS, measured_on, metric_rows
from aecore.measure.leaderboard import INFO, leaderboard_rows, metric_columns
from aecore.measure.zoo import load_baselines
from ui import cached, checkpoints
from ui.widgets import demo


def metrics_table(ckpt: Checkpoint, key: str) -> None:
    """The checkpoint's metrics.json beside the anchors its recipe names, or how to make one."""
    rows = metric_rows(ckpt)
    if not rows:
        here = checkpoints.origin(str(ckpt.path)) != "upload"
        st.info(f"No metrics.json yet: run `python -m aecore evaluate {ckpt.path} --json`." if here and not demo() else
                "No metrics.json came with this model. Measure it where its files are, with `python -m aecore "
                "evaluate FOLDER --json`, and upload the metrics.json it writes with the model.")
        return
    st.caption(f"Measured on {measured_on(ckpt)}; anchors are published values for the "
               "same kind of model, where known.")
    table = pd.DataFrame(rows)
    table["anchor"] = [f"{a:.4f}" if pd.notna(a) else "" for a in table["anchor"]]  # None became NaN
    st.dataframe(table, hide_index=True, key=key, height=35 * (len(table) + 1) + 3,
                 column_config={"value": st.column_config.NumberColumn(format="%.4f"),
                                "source": st.column_config.TextColumn(width="medium")})


def baselines() -> dict:
    """baselines.json of the checkpoint folder ({} when it has none)."""
    return load_baselines(checkpoints.checkpoint_dir())


def leaderboard() -> pd.DataFrame:
    """Every available checkpoint with metrics, its published anchors, then the baselines."""
    rows = leaderboard_rows([(Path(p).name, cached.summary(p)) for p in checkpoints.available()], baselines())
    return pd.DataFrame(rows, columns=[*INFO, *metric_columns(rows)])


def show_leaderboard(table: pd.DataFrame, key: str) -> None:
    """The leaderboard as a sortable table (click a column's header), each metric's meaning on hover."""
    config = {m: st.column_config.NumberColumn(help=DESCRIPTIONS.get(m), format="%.4f")
              for m in table.columns if m not in INFO}
    config.update({"code": st.column_config.NumberColumn("code", help="code size (PCA: components)"),
                   "name": st.column_config.TextColumn(width="medium", pinned=True),
                   "source": st.column_config.TextColumn(width="medium")})
    st.dataframe(table, hide_index=True, key=key, column_config=config,
                 height=min(35 * (len(table) + 1) + 3, 800))
