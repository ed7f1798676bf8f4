"""PoseLab's analysis library: MediaPipe Pose Landmarker in, typed pose data out.

Never imports streamlit; the dashboard and the command line both call it.
"""

__version__ = "0.1.0"
