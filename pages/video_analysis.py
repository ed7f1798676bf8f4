import streamlit as st

from pose_core.errors import ModelError, VideoLoadError
from pose_core.video_io import VIDEO_EXTENSIONS
from ui import state
from ui.i18n import t
from ui.models import model_available_ui
from ui.page import page_setup
from ui.text import md_escape
from ui.video_views import progress_ui, video_result_ui
from ui.widgets import settings_sidebar_ui, video_settings_ui

page_setup()
st.title(t("video.title"))
settings, style = settings_sidebar_ui(segmentation=False)
stride, smoothing = video_settings_ui()
upload = st.file_uploader(
    t("video.drop"),
    type=[ext.lstrip(".") for ext in VIDEO_EXTENSIONS],
    key=state.VIDEO_UPLOADER,
    help=t("video.drop_help"),
)
limits = state.APP_VIDEO_LIMITS
st.caption(t("video.limits", mb=limits.max_bytes // 2**20, s=f"{limits.max_duration_s:.0f}", px=limits.max_side_px))
if upload is None:
    st.info(t("video.empty"), icon=":material/movie:")
    st.stop()
if not model_available_ui(settings.model):
    st.stop()

progress, done, say = progress_ui()
try:
    data = upload.getvalue()
    digest = state.upload_digest(upload.file_id, data)
    job = state.video_job(digest, settings, stride)
    render = job.kept(smoothing, style)
    if render is None:  # work to do: one video at a time on this server
        with state.video_slot(waiting=lambda: say(t("video.waiting"))):
            render = job.render(data, smoothing, style, progress=progress)
except VideoLoadError as exc:
    done()
    st.error(
        t("video.unreadable", name=md_escape(upload.name), reason=md_escape(str(exc))), icon=":material/broken_image:"
    )
    st.stop()
except ModelError as exc:
    done()
    st.error(t("model.load_failed", reason=exc), icon=":material/error:")
    st.stop()
done()
video_result_ui(upload.name, job, render, style)
