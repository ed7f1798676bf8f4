import streamlit as st

from pose_core.errors import ModelError
from ui import state
from ui.models import model_available_ui
from ui.page import page_setup
from ui.views import image_result_ui, summary_ui
from ui.widgets import batch_limits_ui, image_inputs_ui, settings_sidebar_ui

page_setup()
st.title("Image analysis")
settings, style = settings_sidebar_ui()
items = image_inputs_ui()
if not items:
    st.info("Drop one or more photos above, pick **Sample**, or take a **Camera** snapshot.", icon=":material/upload:")
    st.stop()
if not model_available_ui(settings.model):
    st.stop()
items = batch_limits_ui(items)

try:
    with st.spinner(f"Finding poses in {len(items)} image(s)..."):
        outcomes = [state.analyze_bytes(item.data, settings, item.digest) for item in items]
    state.hold_for_session(outcomes)
except ModelError as exc:
    st.error(f"The pose model could not be loaded: {exc}", icon=":material/error:")
    st.stop()

chosen = 0
if len(items) > 1:
    chosen = summary_ui(items, outcomes, style)
    st.divider()
image_result_ui(items[chosen], outcomes[chosen], style)
