import streamlit as st

from ui.i18n import t
from ui.live_views import live_controls_ui, live_page_ui
from ui.models import model_available_ui
from ui.page import page_setup
from ui.widgets import settings_sidebar_ui

page_setup()
st.title(t("live.title"))
settings, style = settings_sidebar_ui(segmentation=False, default_model="lite", crowd_search=False)
mirror, record_seconds = live_controls_ui()
if not model_available_ui(settings.model):
    st.stop()
live_page_ui(settings, style, mirror, record_seconds)
