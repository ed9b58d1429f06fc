"""Train: pick a kind, a body, a code size and the kind's settings; training runs in the
background (one per server, the rest wait in line) while the page shows each epoch's losses and
map; the result is saved as a checkpoint in a user folder and joins the sidebar's picker."""
import streamlit as st

from ui import checkpoints, train_widgets, training
from ui.frame import guard
from ui.widgets import demo

st.title("Train")

with guard():
    owner = checkpoints.session_id()
    training.watch_session(owner, checkpoints.trained_dir() if demo() else None)
    st.container(key="train_where").caption(
        "Hosted demo: the bundled sample, the mlp body, codes up to 16-D, up to 10 epochs and a bounded cost; "
        "what you train is kept for this browser tab only, and goes when it closes. One training runs at a time."
        if demo() else
        f"One training runs at a time on this server; checkpoints are saved in {checkpoints.trained_dir()}.")
    mine = training.trainer().mine(owner)
    if mine is None:
        train_widgets.form(demo())
        st.button("Start training", type="primary", key="train_start", on_click=train_widgets.submit,
                  args=(demo(),), help="If the server is training already, yours waits in line and starts by itself.")
        train_widgets.confirm(demo())
        if refused := st.session_state.get("_train_refused"):
            st.warning(train_widgets.without_paths(refused) if demo() else refused)
    else:
        m, t = mine.request.model, mine.request.training
        st.caption(f"**{mine.request.name}**: {m.kind}, {m.body}, {m.latent_dim}-D code, {t.epochs} epochs "
                   f"on {t.dataset}, seed {t.seed}.")
    train_widgets.live(owner, demo())
