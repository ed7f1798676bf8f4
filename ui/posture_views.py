"""Postures in the app: the posture line under each pose, and the page where a user
teaches and loads their own classifier."""

from __future__ import annotations

import streamlit as st

from pose_core.errors import PoseLabError
from pose_core.postures import (
    ClassifierError,
    PostureClassifier,
    examples_from_zip,
    posture_for,
    teach_classifier,
)
from pose_core.types import PoseResult, PoseSettings
from ui import state
from ui.i18n import posture_label, t
from ui.text import md_escape

CLASS_SLOTS = 4  # classes taught by uploads (a ZIP may hold any number)
REQUESTED = "posture-teach-requested"


def _request(flag: str) -> None:
    # NOTE: a flag set by the button's callback, not the button's own value: the value
    # lasts one run, and a page may be re-run at once (ui.page.page_setup) and lose it.
    st.session_state[flag] = True


def current_classifier() -> PostureClassifier | None:
    """The classifier this session taught or loaded, if any."""
    return st.session_state.get(state.POSTURE_CLASSIFIER)


def posture_ui(pose: PoseResult) -> None:
    """One line: the pose's posture and why (the session's classifier if there is one)."""
    posture = posture_for(pose, current_classifier())
    st.markdown(t("posture.line", label=md_escape(posture_label(posture.label))), help=posture.reason)
    st.caption(md_escape(posture.reason))  # pose_core's measurements, as the JSON has them


def _teach_from(examples: list[tuple[str, str, bytes]], settings: PoseSettings) -> None:
    poses, skipped = [], []
    bar = st.progress(0.0, text=t("teach.finding"))
    for n, (label, name, data) in enumerate(examples, start=1):
        outcome = state.analyze_bytes(data, settings)
        found = outcome.analysis.poses if outcome.analysis else ()
        if found:
            poses.append((label, found[0], name))
        else:
            skipped.append(f"{name} ({outcome.error or t('summary.nobody')})")
        bar.progress(n / len(examples), text=t("teach.example", n=n, total=len(examples)))
    bar.empty()
    if skipped:
        st.warning(t("teach.left_out", names=md_escape(", ".join(skipped))), icon=":material/warning:")
    try:
        st.session_state[state.POSTURE_CLASSIFIER] = teach_classifier(poses)
    except ClassifierError as exc:
        st.error(t("teach.failed", reason=md_escape(str(exc))), icon=":material/error:")


def postures_page_ui(settings: PoseSettings) -> None:
    """Teach a classifier from example photos, or load one; show and offer the one in use."""
    st.markdown(t("teach.intro"))
    teach_tab, load_tab = st.tabs([t("teach.tab_teach"), t("teach.tab_load")])
    with teach_tab:
        zipped = st.file_uploader(t("teach.zip"), type=["zip"], key=state.POSTURE_ZIP)
        st.caption(t("teach.or_classes"))
        examples: list[tuple[str, str, bytes]] = []
        columns = st.columns(2)
        for slot in range(CLASS_SLOTS):
            with columns[slot % 2]:
                name = st.text_input(
                    t("teach.class", n=slot + 1), key=f"posture-class-{slot}", placeholder=t("teach.class_example")
                )
                files = st.file_uploader(
                    t("teach.class_photos", n=slot + 1),
                    type=["jpg", "jpeg", "png", "webp"],
                    accept_multiple_files=True,
                    key=f"posture-files-{slot}",
                    label_visibility="collapsed",
                )
                if name.strip() and files:
                    examples += [(name.strip(), f.name, f.getvalue()) for f in files]
        st.button(
            t("teach.button"),
            key=state.POSTURE_TEACH,
            type="primary",
            icon=":material/school:",
            on_click=_request,
            args=(REQUESTED,),
        )
        if st.session_state.pop(REQUESTED, False):
            try:
                if zipped is not None:
                    examples += examples_from_zip(zipped.getvalue())
            except ClassifierError as exc:
                st.error(t("teach.failed", reason=md_escape(str(exc))), icon=":material/error:")
            if examples:
                _teach_from(examples, settings)
            else:
                st.info(t("teach.need_examples"), icon=":material/info:")
    with load_tab:
        saved = st.file_uploader(t("teach.load"), type=["json"], key=state.POSTURE_LOAD)
        if saved is not None:
            try:
                st.session_state[state.POSTURE_CLASSIFIER] = PostureClassifier.from_json(saved.getvalue())
            except PoseLabError as exc:
                st.error(
                    t("teach.unusable", name=md_escape(saved.name), reason=md_escape(str(exc))),
                    icon=":material/error:",
                )
    classifier = current_classifier()
    if classifier is None:
        st.info(t("teach.rules"), icon=":material/rule:")
        return
    counts = {c: classifier.labels.count(c) for c in classifier.classes}
    st.success(
        t(
            "teach.in_use",
            classes=", ".join(t("teach.class_count", name=md_escape(c), n=n) for c, n in counts.items()),
            k=classifier.k,
        ),
        icon=":material/check_circle:",
    )
    left, right = st.columns(2)
    left.download_button(
        t("teach.save"),
        classifier.to_json(),
        "postures.classifier.json",
        "application/json",
        icon=":material/download:",
        key="dl-classifier",
        on_click=state.DOWNLOAD_CLICK,
    )
    if right.button(t("teach.forget"), key="posture-forget"):
        del st.session_state[state.POSTURE_CLASSIFIER]
        st.rerun()
    st.caption(t("teach.cli", command="`python -m pose_core analyze photos/ --classifier postures.classifier.json`"))
