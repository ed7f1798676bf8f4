"""Page layout for a projector and a phone: one stylesheet for every page, and tables
whose empty cells are blank."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
import streamlit as st
from pandas.io.formats.style import Styler

# NOTE: CSS, because Streamlit has no setting for these:
# - the page starts near the top (Streamlit leaves ~100 px empty above the title);
# - the photo and its skeleton (the container keyed "pictures") never grow taller than
#   the window minus what sits above them, so both are in view at 1280x720 after an upload;
# - on a phone (one column) the skeleton comes first, the original under it;
# - element toolbars (fullscreen, download) sit above an element, never over its caption.
_CSS = """
<style>
[data-testid="stMainBlockContainer"] { padding-top: 2.75rem; padding-bottom: 3rem; }
[data-testid="stMainBlockContainer"] h1 { padding-top: 0.25rem; padding-bottom: 0.25rem; }
.st-key-pictures [data-testid="stImage"] img {
  max-height: calc(100vh - 330px); min-height: 0; width: auto !important; max-width: 100%;
  object-fit: contain; margin: 0 auto; display: block;
}
.st-key-pictures [data-testid="stImage"] { align-items: center; }
.st-key-pictures [data-testid="stImageCaption"], .st-key-pictures [data-testid="caption"] { text-align: center; }
.st-key-inputs [data-testid="stFileUploaderDropzone"] { padding-top: 0.5rem; padding-bottom: 0.5rem; }
@media (max-width: 640px) {
  .st-key-pictures [data-testid="stHorizontalBlock"] { flex-direction: column-reverse; }
  .st-key-pictures [data-testid="stImage"] img { max-height: 70vh; }
  [data-testid="stMainBlockContainer"] { padding-left: 0.75rem; padding-right: 0.75rem; }
  /* a strip above tables and charts for their toolbar, which otherwise covers the caption above */
  [data-testid="stDataFrame"], [data-testid="stPlotlyChart"] { margin-top: 2rem; }
}
</style>
"""


def layout_css_ui() -> None:
    """The app's stylesheet (takes no room on the page)."""
    st.html(_CSS)


def blank_na(frame: pd.DataFrame, formats: Mapping[str, str] | None = None) -> Styler:
    """``frame`` for st.dataframe with empty cells blank (Streamlit shows NaN as "None")."""
    return frame.style.format(na_rep="").format(dict(formats or {}), na_rep="")
