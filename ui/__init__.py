"""Streamlit-side helpers shared by the pages. ``cnnviz`` knows nothing of Streamlit; this does."""
