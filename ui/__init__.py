"""Streamlit-only helpers for the dashboard: cached service calls, pickers, rendering.

Pages import from here and from :mod:`evalcore.charts`; nothing in ``evalcore`` imports
this package (the core never depends on Streamlit).
"""
