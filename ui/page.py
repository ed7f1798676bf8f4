"""What every page does first."""

from __future__ import annotations

import streamlit as st
from streamlit.runtime.pages_manager import PagesManager


def page_setup() -> None:
    """Make sure the page runs under ``streamlit_app.py``'s ``st.navigation``.

    NOTE: Streamlit decides on a server's first run whether this is a legacy
    "pages/ folder" app, before ``streamlit_app.py`` gets to call ``st.navigation``
    (which is what turns that mode off). A first visitor who lands straight on a page's
    URL would then run the page on its own, without the app's navigation and page
    config, and lock the server in that mode. We keep the ``pages/`` layout, so undo it
    here and rerun through the entry script.
    """
    if PagesManager.uses_pages_directory:
        PagesManager.uses_pages_directory = False
        st.rerun()
