import functools

import streamlit as st

from pose_core.errors import ModelError
from ui import state
from ui.i18n import t
from ui.models import model_available_ui
from ui.page import page_setup
from ui.teaching import teaching_ui
from ui.views import batch_picker_ui, image_result_ui, summary_ui
from ui.widgets import batch_limits_ui, image_inputs_ui, settings_sidebar_ui

page_setup()
st.title(t("image.title"))
settings, style = settings_sidebar_ui()
items = image_inputs_ui()
if not items:
    st.info(t("image.empty"), icon=":material/upload:")
    teaching_ui()
    st.stop()
if not model_available_ui(settings.model):
    st.stop()
items = batch_limits_ui(items)

try:
    with st.spinner(t("image.spinner", n=len(items))):
        outcomes = [state.analyze_bytes(item.data, settings, item.digest) for item in items]
    state.hold_for_session(outcomes)
except ModelError as exc:
    st.error(t("model.load_failed", reason=exc), icon=":material/error:")
    st.stop()

chosen = batch_picker_ui(items, outcomes, style) if len(items) > 1 else 0
summary = functools.partial(summary_ui, items, outcomes, style) if len(items) > 1 else None  # under the pictures
image_result_ui(items[chosen], outcomes[chosen], style, after_pictures=summary)
teaching_ui()
