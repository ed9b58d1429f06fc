"""Autoencoder explorer: the frame shared by every page (sidebar, navigation).
Run with `streamlit run app.py`; the pages live in pages/, the helpers in ui/.

Streamlit runs this file as `__main__` for every page view. `streamlit run` first reads it as a
module and serves `app`, an st.App of this same file whose lifespan (ui/server.py) preloads the
default checkpoint and data while the first visitor's browser is still booting."""
import streamlit as st

if __name__ == "__main__":
    from ui import server

    with server.page_view():  # after the server's preload, never beside an import that runs alone
        from ui import widgets
        from ui.frame import guard

        st.set_page_config(page_title="Autoencoder explorer", layout="wide")
        page = st.navigation([
            st.Page("pages/1_overview.py", title="Overview", default=True),
            st.Page("pages/2_latent_map.py", title="Latent map"),
            st.Page("pages/3_generate.py", title="Generate"),
            st.Page("pages/4_denoise.py", title="Denoise"),
            st.Page("pages/5_units.py", title="Units"),
            st.Page("pages/6_compare.py", title="Compare"),
            st.Page("pages/7_steer.py", title="Attribute vectors", url_path="steer"),
            st.Page("pages/8_leaderboard.py", title="Leaderboard"),
            st.Page("pages/9_train.py", title="Train"),
            st.Page("pages/10_history.py", title="History"),
            st.Page("pages/11_traversals.py", title="Traversals"),
        ])
        with guard():
            widgets.sidebar()
        try:
            page.run()
        finally:  # load torch and compile UMAP in the background once per process, a few seconds
            server.warm_up()  # after the first page has run, so they do not slow its first paint
else:
    from ui.server import lifespan

    app = st.App(__file__, lifespan=lifespan)
