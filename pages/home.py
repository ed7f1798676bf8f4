import streamlit as st

from ui.i18n import t
from ui.page import page_setup
from ui.teaching import teaching_ui

page_setup()

st.title(t("home.title"))
st.markdown(t("home.intro"))
st.page_link("pages/image_analysis.py", label=t("home.link_image"), icon=":material/arrow_forward:")
st.page_link("pages/video_analysis.py", label=t("home.link_video"), icon=":material/arrow_forward:")
st.markdown(t("home.start"))
teaching_ui(expanded=True)
