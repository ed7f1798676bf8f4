import streamlit as st

from pose_core.errors import ModelError, VideoLoadError
from pose_core.video_io import VIDEO_EXTENSIONS
from ui import state
from ui.models import model_available_ui
from ui.page import page_setup
from ui.text import md_escape
from ui.video_views import progress_ui, video_result_ui
from ui.widgets import settings_sidebar_ui, video_settings_ui

page_setup()
st.title("Video analysis")
settings, style = settings_sidebar_ui(segmentation=False)
stride, smoothing = video_settings_ui()
upload = st.file_uploader(
    "Drop a short video",
    type=[ext.lstrip(".") for ext in VIDEO_EXTENSIONS],
    key=state.VIDEO_UPLOADER,
    help="MP4, MOV, AVI, WebM or MKV. The video stays in this server's memory; nothing is stored or sent.",
)
st.caption(f"Videos here may be {state.APP_VIDEO_LIMITS.describe()}. The command line has no such limits.")
if upload is None:
    st.info("Drop a video above: a squat, a jump, a few steps of walking.", icon=":material/movie:")
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
        with state.video_slot(waiting=lambda: say("Another video is being analysed on this server; yours is next...")):
            render = job.render(data, smoothing, style, progress=progress)
except VideoLoadError as exc:
    done()
    st.error(
        f"**{md_escape(upload.name)}** could not be analysed: {md_escape(str(exc))}", icon=":material/broken_image:"
    )
    st.stop()
except ModelError as exc:
    done()
    st.error(f"The pose model could not be loaded: {exc}", icon=":material/error:")
    st.stop()
done()
video_result_ui(upload.name, job, render, style)
