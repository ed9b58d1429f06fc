"""The explorer's Streamlit helpers, one concern per module; pages call these, and aecore never
imports streamlit.

  checkpoints  the checkpoint folder, labels for pickers, this session's uploads
  cached       every cache of the app, keyed per checkpoint by the digest of its weights
  widgets      the shared sidebar, the page context, pickers and projection controls
  display      digits as crisp tiles
  frame        the error guard, and the one workaround Streamlit's pages/ folder needs
  server       what the server does as it starts: preload, gc freeze, torch and UMAP warm-up
"""
