import streamlit as st

from ui.i18n import t
from ui.page import page_setup
from ui.posture_views import postures_page_ui
from ui.widgets import settings_sidebar_ui

page_setup()
st.title(t("teach.title_page"))
settings, _style = settings_sidebar_ui(segmentation=False)
postures_page_ui(settings)
