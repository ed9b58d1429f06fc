"""Pictures in and out: pixel conversions, tiles and files, drawn and uploaded digits, the
corruptions for denoising, and the plotly figures (nothing here knows about Streamlit)."""
