"""Teaching aids that need no hover (a projector and a touch screen have none): the
landmark map, a glossary in plain words, and what the model cannot do."""

from __future__ import annotations

import streamlit as st

from pose_core.plots import landmark_map
from ui.i18n import landmark_names, t

GLOSSARY = ("x", "y", "z", "world", "visibility", "presence", "angle_2d_3d")
LIMITS = ("crowds", "occlusion", "sides", "far", "depth")


def glossary_ui() -> None:
    st.markdown(f"**{t('teach.glossary')}**")
    st.markdown("\n".join(f"- **{t(f'glossary.{k}.term')}**: {t(f'glossary.{k}.text')}" for k in GLOSSARY))


def limits_ui() -> None:
    st.markdown(f"**{t('teach.limits')}**")
    st.markdown("\n".join(f"- {t(f'limits.{k}')}" for k in LIMITS))


def teaching_ui(expanded: bool = False) -> None:
    """The landmark map beside the glossary and the model's limits, in an expander."""
    with st.expander(t("teach.title"), expanded=expanded, icon=":material/school:"):
        left, right = st.columns([1, 1], gap="medium")
        with left:
            st.markdown(f"**{t('teach.map')}**")
            st.plotly_chart(landmark_map(names=landmark_names()), key="landmark-map", config={"displaylogo": False})
            st.caption(t("teach.map_caption"))
        with right:
            glossary_ui()
            limits_ui()
