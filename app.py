"""Autoencoder explorer: the frame shared by every page (sidebar, navigation).
Run with `streamlit run app.py`; the pages live in pages/, the helpers in ui.py."""
import streamlit as st

import ui

st.set_page_config(page_title="Autoencoder explorer", layout="wide")

page = st.navigation([
    st.Page("pages/1_overview.py", title="Overview", default=True),
    st.Page("pages/2_latent_map.py", title="Latent map"),
    st.Page("pages/3_generate.py", title="Generate"),
    st.Page("pages/4_denoise.py", title="Denoise"),
    st.Page("pages/5_units.py", title="Units"),
])
with ui.guard():
    ui.sidebar()
try:
    page.run()
finally:  # compile UMAP in the background once per process, before a page asks for it; started
    ui.warm_up()  # after the first page has run, so that it does not slow down the first paint
