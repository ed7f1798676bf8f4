"""PoseLab: `streamlit run streamlit_app.py`."""

import streamlit as st

from ui.i18n import language_ui, t
from ui.layout import layout_css_ui

# NOTE: an emoji icon, not ":material/...:": Streamlit fetches a Material icon's favicon
# from a Google fonts host, and nothing may leave this machine (nor break offline).
st.set_page_config(page_title="PoseLab", page_icon="🧍", layout="wide")
language_ui()
layout_css_ui()
st.navigation(
    [
        st.Page("pages/home.py", title=t("nav.home"), icon=":material/home:", default=True),
        st.Page("pages/image_analysis.py", title=t("nav.image"), icon=":material/image_search:"),
        st.Page("pages/video_analysis.py", title=t("nav.video"), icon=":material/movie:"),
        st.Page("pages/live.py", title=t("nav.live"), icon=":material/videocam:"),
        st.Page("pages/compare.py", title=t("nav.compare"), icon=":material/compare:"),
        st.Page("pages/postures.py", title=t("nav.postures"), icon=":material/accessibility:"),
    ]
).run()
