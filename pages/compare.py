import streamlit as st

from ui.compare_views import compare_page_ui
from ui.i18n import t
from ui.models import model_available_ui
from ui.page import page_setup
from ui.widgets import settings_sidebar_ui

page_setup()
st.title(t("compare.title"))
settings, style = settings_sidebar_ui(segmentation=False)
if not model_available_ui(settings.model):
    st.stop()
compare_page_ui(settings, style)
