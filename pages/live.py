import streamlit as st

from pose_core.errors import PoseLabError
from pose_core.live import LiveOptions
from ui.i18n import t
from ui.live_views import (
    freeze_ui,
    frozen_result_ui,
    ice_config_ui,
    live_controls_ui,
    live_panel_ui,
    live_stream_ui,
    no_connection_ui,
    record_ui,
    recording_downloads_ui,
    snapshot_ui,
)
from ui.models import model_available_ui
from ui.page import page_setup
from ui.widgets import settings_sidebar_ui

page_setup()
st.title(t("live.title"))
settings, style = settings_sidebar_ui(segmentation=False, default_model="lite", crowd_search=False)
mirror, record_seconds = live_controls_ui()
if not model_available_ui(settings.model):
    st.stop()
try:
    options = LiveOptions(settings=settings, style=style, mirror=mirror, record_seconds=record_seconds)
except PoseLabError as exc:
    st.error(t("live.bad_options", reason=exc), icon=":material/error:")
    st.stop()

no_connection_ui()
video_col, panel_col = st.columns([3, 2], gap="medium")
with video_col:
    ctx = live_stream_ui(options, ice_config_ui())
    left, right = st.columns(2, vertical_alignment="center")
    with left:
        freeze_ui()
    with right:
        record_ui()
    recording_downloads_ui()
with panel_col:
    live_panel_ui(ctx, style.visibility_threshold)
frozen_result_ui(style)
snapshot_ui(style, settings)
