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
    st.markdown(f"Posture: **{md_escape(posture.label)}**", help=posture.reason)
    st.caption(md_escape(posture.reason))


def _teach_from(examples: list[tuple[str, str, bytes]], settings: PoseSettings) -> None:
    poses, skipped = [], []
    bar = st.progress(0.0, text="Finding the pose in each example...")
    for n, (label, name, data) in enumerate(examples, start=1):
        outcome = state.analyze_bytes(data, settings)
        found = outcome.analysis.poses if outcome.analysis else ()
        if found:
            poses.append((label, found[0], name))
        else:
            skipped.append(f"{name} ({outcome.error or 'nobody found'})")
        bar.progress(n / len(examples), text=f"Example {n} of {len(examples)}")
    bar.empty()
    if skipped:
        st.warning("Left out: " + md_escape(", ".join(skipped)), icon=":material/warning:")
    try:
        st.session_state[state.POSTURE_CLASSIFIER] = teach_classifier(poses)
    except ClassifierError as exc:
        st.error(md_escape(str(exc)), icon=":material/error:")


def postures_page_ui(settings: PoseSettings) -> None:
    """Teach a classifier from example photos, or load one; show and offer the one in use."""
    st.markdown(
        "Every pose gets a posture by PoseLab's rules: **lying, T-pose, arms raised, kneeling, lunge, squatting, "
        "sitting, standing**, with the measurements that decided it. To name your own postures, teach a "
        "classifier with example photos of each: it compares a new pose with the nearest examples "
        "(k-nearest neighbours on normalised landmarks)."
    )
    teach_tab, load_tab = st.tabs(["Teach from photos", "Load a classifier"])
    with teach_tab:
        zipped = st.file_uploader(
            "A ZIP with one folder per class (e.g. warrior/1.jpg, tree/2.jpg)", type=["zip"], key=state.POSTURE_ZIP
        )
        st.caption("Or give each class a name and its photos:")
        examples: list[tuple[str, str, bytes]] = []
        columns = st.columns(2)
        for slot in range(CLASS_SLOTS):
            with columns[slot % 2]:
                name = st.text_input(f"Class {slot + 1}", key=f"posture-class-{slot}", placeholder="e.g. warrior")
                files = st.file_uploader(
                    f"Photos of class {slot + 1}",
                    type=["jpg", "jpeg", "png", "webp"],
                    accept_multiple_files=True,
                    key=f"posture-files-{slot}",
                    label_visibility="collapsed",
                )
                if name.strip() and files:
                    examples += [(name.strip(), f.name, f.getvalue()) for f in files]
        st.button(
            "Teach",
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
                st.error(md_escape(str(exc)), icon=":material/error:")
            if examples:
                _teach_from(examples, settings)
            else:
                st.info("Add example photos of two classes or more first.", icon=":material/info:")
    with load_tab:
        saved = st.file_uploader("A classifier saved from PoseLab (JSON)", type=["json"], key=state.POSTURE_LOAD)
        if saved is not None:
            try:
                st.session_state[state.POSTURE_CLASSIFIER] = PostureClassifier.from_json(saved.getvalue())
            except PoseLabError as exc:
                st.error(f"{md_escape(saved.name)} cannot be used: {md_escape(str(exc))}", icon=":material/error:")
    classifier = current_classifier()
    if classifier is None:
        st.info("No classifier in use: postures come from the rules.", icon=":material/rule:")
        return
    counts = {c: classifier.labels.count(c) for c in classifier.classes}
    st.success(
        "In use on every page of this session: "
        + ", ".join(f"**{md_escape(c)}** ({n} examples)" for c, n in counts.items())
        + f"; k = {classifier.k}.",
        icon=":material/check_circle:",
    )
    left, right = st.columns(2)
    left.download_button(
        "Save the classifier (JSON)",
        classifier.to_json(),
        "postures.classifier.json",
        "application/json",
        icon=":material/download:",
        key="dl-classifier",
    )
    if right.button("Stop using it (back to the rules)", key="posture-forget"):
        del st.session_state[state.POSTURE_CLASSIFIER]
        st.rerun()
    st.caption("On the command line: `python -m pose_core analyze photos/ --classifier postures.classifier.json`")
