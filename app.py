"""Autoencoder explorer: the frame shared by every page (sidebar, navigation).
Run with `streamlit run app.py`; the pages live in pages/, the helpers in ui.py.

Streamlit runs this file as `__main__` for every page view. `streamlit run` first imports it once
as a module, finds `app` (an st.App of this same file) and serves that: its lifespan starts
loading the default checkpoint and data while the first visitor's browser is still booting."""
import contextlib
import threading

import streamlit as st

if __name__ == "__main__":
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
    finally:  # compile UMAP in the background once per process, before a page asks for it; it
        ui.warm_up()  # starts a few seconds after the first page has run, not to slow its first paint
else:
    from streamlit.runtime.pages_manager import PagesManager

    # pages/ holds st.navigation pages: say so before the first session, or Streamlit takes this
    # for a legacy pages/-folder app and runs a deep link's page without this frame (see ui._ensure_frame)
    PagesManager.uses_pages_directory = False

    def _preload() -> None:
        import ui  # here, not at the top: the server answers while torch is still importing
        ui.preload()
        ui.freeze_long_lived()  # then each page view's garbage collection skips all of that

    @contextlib.asynccontextmanager
    async def _lifespan(_app):
        threading.Thread(target=_preload, name="aecore-preload", daemon=True).start()
        yield

    app = st.App(__file__, lifespan=_lifespan)
