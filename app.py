"""Placeholder until the explorer lands."""
import streamlit as st

st.set_page_config(page_title="Autoencoder explorer")
st.title("Autoencoder explorer")
