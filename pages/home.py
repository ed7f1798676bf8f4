import streamlit as st

from ui.page import page_setup

page_setup()

st.title("PoseLab")
st.markdown(
    """
See human pose in photos: 33 body landmarks, a skeleton over the picture, joint angles,
and a 3D view you can rotate, from Google's MediaPipe Pose Landmarker.

**Everything runs on this machine.** Photos stay in memory while you look at them; nothing
is stored, and nothing is sent to any service.
"""
)
st.page_link("pages/image_analysis.py", label="Analyse a photo", icon=":material/arrow_forward:")
st.page_link("pages/video_analysis.py", label="Analyse a video", icon=":material/arrow_forward:")
st.markdown(
    """
**Where to start**
- Drop one photo, or several at once, on the *Image analysis* page, try a sample photo, or
  take a webcam snapshot.
- Pick the model in the sidebar: *lite* is fastest, *full* is the default, *heavy* is the
  most precise (a 30 MB download on first use).
- Drop a short video on *Video analysis* for a tracked, smoothed skeleton, angles over
  time and the range of motion, and an annotated video to share.
- Download the landmarks as CSV or JSON, the skeleton overlay as PNG, or the video as MP4.

**Good to know**
- The model is trained on one person per photo. For groups, crowds and people far away,
  raise *Max people*: *Find everyone* then searches the picture at several scales
  (slower). Very small or mostly hidden people are still missed.
- "Left" and "right" are the person's own: their left arm is on the image's right when
  they face the camera.
- Angles are measured twice: in the image plane (2D) and from the model's metric 3D
  estimate. A big gap means a limb points towards the camera.
"""
)
