"""Making sure the chosen model is on disk, downloading heavy on request."""

from __future__ import annotations

from typing import Literal

import streamlit as st

from pose_core.errors import ModelCorruptError, ModelError, ModelNotDownloadedError
from pose_core.models import download_model, get_variant, resolve_model
from ui.i18n import t

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
        st.error(t("model.unusable", variant=variant, reason=problem), icon=":material/error:")
        return False
    if kind == "damaged":
        st.error(t("model.damaged", variant=variant, reason=problem), icon=":material/error:")
        label = t("model.download_again", variant=variant)
    else:
        st.info(t("model.missing", variant=variant, description=t(f"model.desc.{variant}")), icon=":material/download:")
        label = t("model.download", variant=variant)
    if st.button(label, type="primary", key=f"download-{variant}"):
        _download_ui(variant)
    return False


def _download_ui(variant: str) -> None:
    bar = st.progress(0.0, text=t("model.downloading"))

    def report(done: int, total: int | None) -> None:
        if total:
            bar.progress(
                min(done / total, 1.0),
                text=t("model.downloading_mb", done=f"{done / 2**20:.1f}", total=f"{total / 2**20:.1f}"),
            )

    try:
        download_model(variant, progress=report)
    except ModelError as exc:
        bar.empty()
        st.error(t("model.download_failed", reason=exc), icon=":material/cloud_off:")
        return
    _model_problem.clear()
    st.rerun()
