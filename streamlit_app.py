"""PoseLab: `streamlit run streamlit_app.py`."""

import streamlit as st

st.set_page_config(page_title="PoseLab", page_icon=":material/accessibility_new:", layout="wide")
st.navigation(
    [
        st.Page("pages/home.py", title="Home", icon=":material/home:", default=True),
        st.Page("pages/image_analysis.py", title="Image analysis", icon=":material/image_search:"),
        st.Page("pages/video_analysis.py", title="Video analysis", icon=":material/movie:"),
        st.Page("pages/live.py", title="Live camera", icon=":material/videocam:"),
        st.Page("pages/compare.py", title="Compare", icon=":material/compare:"),
        st.Page("pages/postures.py", title="Postures", icon=":material/accessibility:"),
    ]
).run()
