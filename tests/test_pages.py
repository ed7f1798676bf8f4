"""The pages, driven through streamlit_app.py's navigation with AppTest and the real model."""

from __future__ import annotations

import io
import json
import zipfile

import numpy as np
import pytest
from streamlit.testing.v1 import AppTest

from pose_core.drawing import DrawStyle
from pose_core.inference import PoseEstimator, VideoPoseEstimator
from pose_core.types import PoseSettings
from tests.helpers import REPO, encode
from ui import state
from ui.text import md_escape

PAGE = "pages/image_analysis.py"


def count_detect_calls(monkeypatch: pytest.MonkeyPatch, estimator_class: type) -> list[tuple[int, int]]:
    """Record the image size of every real model call; the real detect still runs."""
    calls: list[tuple[int, int]] = []
    real_detect = estimator_class.detect

    def counting_detect(self, rgb, *args):  # noqa: ANN001, ANN002
        calls.append(rgb.shape[:2])
        return real_detect(self, rgb, *args)

    monkeypatch.setattr(estimator_class, "detect", counting_detect)
    return calls


@pytest.fixture
def detect_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Counts real IMAGE-mode model calls and starts from empty caches."""
    state.clear_caches()
    return count_detect_calls(monkeypatch, PoseEstimator)


def open_page(page: str = PAGE) -> AppTest:
    """The app from its entry script, navigated to ``page``, as a user would reach it."""
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page(page).run()
    assert not at.exception
    return at


def upload(at: AppTest, *files: tuple[str, bytes, str]) -> AppTest:
    at.file_uploader(key=state.UPLOADER).set_value(list(files)).run()
    assert not at.exception, at.exception
    return at


def angle_readout(at: AppTest):  # noqa: ANN201 - a DataFrame
    """The angle table of the open result (the one with a Definition column)."""
    return next(d.value for d in at.dataframe if "Definition" in d.value.columns)


def images(at: AppTest) -> list:
    return [e for e in at.main if type(e).__name__ == "Image"]


def shows_full_result(at: AppTest) -> None:
    assert len(images(at)) == 2  # original and skeleton
    assert at.dataframe[-1].value.shape[0] == 33
    assert len(at.get("plotly_chart")) == 2  # the 3D skeleton, and the landmark map of the teaching aids
    angle_table = angle_readout(at)
    assert {"Left elbow", "Trunk inclination"} <= set(angle_table["Angle"])
    assert angle_table["Definition"].str.contains("180° = straight line").any()  # definitions beside readings
    labels = [b.label for b in at.get("download_button")]
    assert {"Overlay (PNG)", "Landmarks (CSV)", "Everything (JSON)"} <= set(labels)
    assert all(b.proto.ignore_rerun for b in at.get("download_button")), "a download never reruns the page"
    assert any("inference" in c.value and "decode" in c.value for c in at.caption)


def test_home_page_says_what_poselab_does():
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert not at.exception
    text = " ".join(m.value for m in at.markdown)
    assert "Everything runs on this machine" in text and "33 body landmarks" in text


def test_before_any_image_the_page_says_what_to_do(detect_calls):
    at = open_page()
    assert "Drop one or more photos" in at.info[0].value
    assert detect_calls == []


def test_upload_one_photo_shows_everything(astronaut_png, detect_calls):
    at = upload(open_page(), ("astronaut.png", astronaut_png, "image/png"))
    shows_full_result(at)
    assert detect_calls == [(512, 512)]


def test_several_photos_get_a_summary_a_picker_and_a_zip(astronaut_png, hopper_jpeg, no_person_rgb, detect_calls):
    at = upload(
        open_page(),
        ("astronaut.png", astronaut_png, "image/png"),
        ("hopper.jpg", hopper_jpeg, "image/jpeg"),
        ("broken.jpg", b"\xff\xd8\xff\xe0 not really a jpeg", "image/jpeg"),
        ("landscape.jpg", encode(no_person_rgb), "image/jpeg"),
    )
    summary = at.dataframe[0].value
    assert summary["file"].tolist() == ["astronaut.png", "hopper.jpg", "broken.jpg", "landscape.jpg"]
    assert summary["people"].tolist() == [1, 1, 0, 0]
    assert summary["status"].tolist()[0:2] == ["ok", "ok"]
    assert summary["status"][2].startswith("unreadable") and summary["status"][3] == "no person found"
    # Portraits: the knees are guesses from outside the frame, so they stay blank.
    assert summary["Left knee"].isna().all()
    assert "All as ZIP" in [b.label for b in at.get("download_button")]
    shows_full_result(at)  # the first image opens by default

    at.selectbox(key=state.OPEN_IMAGE).set_value(2).run()
    assert "broken\\.jpg" in at.error[0].value and "corrupt" in at.error[0].value
    at.selectbox(key=state.OPEN_IMAGE).set_value(3).run()
    assert "No person found in **landscape\\.jpg**" in at.warning[0].value
    assert len(detect_calls) == 3  # the broken file never reached the model; nothing ran twice


def test_a_bad_file_alone_gets_a_clear_message_not_a_traceback(detect_calls):
    at = upload(open_page(), ("holiday.png", b"%PDF-1.7 this is a pdf", "image/png"))
    assert not at.exception
    assert "holiday\\.png" in at.error[0].value and "not an image PoseLab can read" in at.error[0].value
    assert detect_calls == []


def test_a_no_person_photo_explains_what_to_try(no_person_rgb, detect_calls):
    at = upload(open_page(), ("landscape.jpg", encode(no_person_rgb), "image/jpeg"))
    warning = at.warning[0].value
    assert "No person found" in warning and "Person detection" in warning
    assert len(images(at)) == 2 and len(at.get("plotly_chart")) == 1  # the landmark map only: no 3D


def test_a_sample_is_analysed_as_soon_as_it_is_picked(detect_calls):
    at = open_page()
    at.radio(key=state.SOURCE).set_value("Sample").run()
    assert not at.exception
    shows_full_result(at)
    assert len(detect_calls) == 1


def test_a_camera_snapshot_is_analysed(hopper_jpeg, detect_calls):
    at = open_page()
    at.radio(key=state.SOURCE).set_value("Camera").run()
    at.camera_input(key=state.CAMERA).set_value(("shot.jpg", hopper_jpeg, "image/jpeg")).run()
    assert not at.exception
    shows_full_result(at)


def test_display_changes_and_reruns_never_call_the_model_again(astronaut_png, detect_calls):
    at = upload(open_page(), ("astronaut.png", astronaut_png, "image/png"))
    assert len(detect_calls) == 1
    hidden_at_default = angle_readout(at)["Note"].str.contains("low confidence").sum()
    at.run()  # a plain rerun, same image and settings
    at.slider(key=state.VISIBILITY_THRESHOLD).set_value(0.1).run()
    at.color_picker(key=state.JOINT_COLOR).set_value("#00FF00").run()
    at.color_picker(key=state.BONE_COLOR).set_value("#000000").run()
    at.select_slider(key=state.LINE_WIDTH).set_value(6).run()
    at.toggle(key=state.ANGLE_ARCS).set_value(True).run()
    assert not at.exception
    assert len(detect_calls) == 1, "display-only changes must reuse the cached result"
    # A lower threshold: fewer angles are marked as relying on a hidden landmark.
    assert angle_readout(at)["Note"].str.contains("low confidence").sum() < hidden_at_default

    at.selectbox(key=state.MODEL).set_value("lite").run()  # an inference setting: one new run
    assert len(detect_calls) == 2
    at.selectbox(key=state.MODEL).set_value("full").run()  # back: cached again
    assert len(detect_calls) == 2


def test_segmentation_masks_are_an_inference_setting(astronaut_png, detect_calls):
    at = upload(open_page(), ("astronaut.png", astronaut_png, "image/png"))
    at.toggle(key=state.SEGMENTATION).set_value(True).run()
    assert not at.exception and len(detect_calls) == 2
    at.toggle(key=state.SEGMENTATION).set_value(False).run()
    assert len(detect_calls) == 2


def test_heavy_model_not_yet_downloaded_offers_the_download(astronaut_png, detect_calls):
    at = upload(open_page(), ("astronaut.png", astronaut_png, "image/png"))
    at.selectbox(key=state.MODEL).set_value("heavy").run()
    assert not at.exception
    assert "not on this machine yet" in at.info[0].value and "build_models.py --variants heavy" in at.info[0].value
    assert at.button(key="download-heavy").label == "Download the heavy model"
    assert len(detect_calls) == 1  # nothing was analysed with a model that is not there


# ---------------------------------------------------------------- video page

VIDEO_PAGE = "pages/video_analysis.py"


@pytest.fixture(scope="module")
def slide_mp4(astronaut_rgb) -> bytes:
    from tests.helpers import encode_clip, stage

    return encode_clip([stage(astronaut_rgb, t) for t in range(12)])


@pytest.fixture
def video_detect_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Counts real VIDEO-mode model calls and starts from empty video caches."""
    state.clear_caches()
    return count_detect_calls(monkeypatch, VideoPoseEstimator)


def test_video_page_states_its_limits_before_any_upload(video_detect_calls):
    at = open_page(VIDEO_PAGE)
    assert "100 MB, 60 s, and 1920 px" in " ".join(c.value for c in at.caption)
    assert "Drop a video" in at.info[0].value


def test_a_video_is_tracked_played_charted_and_exported(slide_mp4, video_detect_calls):
    at = open_page(VIDEO_PAGE)
    at.file_uploader(key=state.VIDEO_UPLOADER).set_value(("slide.mp4", slide_mp4, "video/mp4")).run()
    assert not at.exception, at.exception
    assert len(at.get("video")) == 1
    assert len(at.get("plotly_chart")) == 2  # angles over time; the angle repetitions are counted on
    assert {"Annotated video (MP4)", "Landmarks per frame (CSV)", "Everything (JSON)"} <= {
        b.label for b in at.get("download_button")
    }
    rom = at.dataframe[-1].value
    assert list(rom.columns[:4]) == ["Angle", "Low 2D", "High 2D", "Range 2D"]
    assert len(rom) > 0
    assert any(d.value.shape[0] == 33 for d in at.dataframe)  # the chosen frame's landmarks
    assert len(video_detect_calls) == 12

    at.slider(key=state.VIDEO_FRAME).set_value(7).run()  # explore a frame
    assert any("Frame 7 at 0.70 s" in h.value for h in at.subheader)
    at.selectbox(key=state.SMOOTHING).set_value("butterworth").run()  # re-render only
    at.color_picker(key=state.JOINT_COLOR).set_value("#00FF00").run()
    assert not at.exception
    assert len(video_detect_calls) == 12, "smoothing and display changes never re-run the model"


def test_a_broken_video_gets_a_clear_message(video_detect_calls):
    at = open_page(VIDEO_PAGE)
    at.file_uploader(key=state.VIDEO_UPLOADER).set_value(("clip.mp4", b"\x00\x00\x00\x18ftypmp42 broken", "video/mp4"))
    at.run()
    assert not at.exception
    assert "clip\\.mp4" in at.error[0].value and "not a video PoseLab can read" in at.error[0].value
    assert video_detect_calls == []


def test_a_video_over_the_limits_is_refused_with_the_limits(video_detect_calls):
    from tests.helpers import encode_clip

    wide = encode_clip([np.full((16, 2000, 3), 90, np.uint8)] * 2)
    at = open_page(VIDEO_PAGE)
    at.file_uploader(key=state.VIDEO_UPLOADER).set_value(("wide.mp4", wide, "video/mp4")).run()
    assert "2000x16" in at.error[0].value and "1920 px" in at.error[0].value
    assert video_detect_calls == []


# ---------------------------------------------------------------- hostile file names

HOSTILE_NAMES = ("![t](http://192.0.2.1/x.png).jpg", "[site](http://192.0.2.1/).jpg", ":red[big] <b>x</b>.jpg")


def _inert(markdown: str, name: str) -> bool:
    """``name`` appears in ``markdown`` only with its Markdown syntax escaped."""
    return "](" not in markdown and ":red[" not in markdown and "<b>" not in markdown and md_escape(name) in markdown


@pytest.mark.parametrize("name", HOSTILE_NAMES)
def test_file_names_are_shown_as_text_never_as_markdown(name, no_person_rgb, detect_calls):
    at = upload(open_page(), (name, b"not an image", "image/jpeg"))
    assert _inert(at.error[0].value, name)
    at = upload(open_page(), (name, encode(no_person_rgb), "image/jpeg"))
    assert _inert(at.warning[0].value, name)


def test_video_file_names_are_shown_as_text_never_as_markdown(video_detect_calls):
    name = HOSTILE_NAMES[0].replace(".jpg", ".mp4")
    at = open_page(VIDEO_PAGE)
    at.file_uploader(key=state.VIDEO_UPLOADER).set_value((name, b"garbage" * 10, "video/mp4")).run()
    assert _inert(at.error[0].value, name)


def test_a_batch_over_the_limits_analyses_what_fits_and_names_the_rest(
    astronaut_png, hopper_jpeg, no_person_rgb, detect_calls, monkeypatch
):
    monkeypatch.setattr(state, "MAX_BATCH_FILES", 2)
    at = upload(
        open_page(),
        ("astronaut.png", astronaut_png, "image/png"),
        ("hopper.jpg", hopper_jpeg, "image/jpeg"),
        ("landscape.jpg", encode(no_person_rgb), "image/jpeg"),
    )
    warning = at.warning[0].value
    assert "first 2 of 3 images" in warning and "landscape\\.jpg" in warning and "command line" in warning
    assert at.dataframe[0].value["file"].tolist() == ["astronaut.png", "hopper.jpg"]
    assert len(detect_calls) == 2


def test_more_than_one_person_turns_find_everyone_on_and_a_group_gets_numbered_tabs(detect_calls):
    from tests.scenes import group_scene, reference_poses  # noqa: PLC0415

    with PoseEstimator(PoseSettings()) as plain:
        references = reference_poses(plain.detect)
    canvas = group_scene(references).rgb

    at = open_page()
    assert not at.toggle(key=f"{state.CROWD}-off").value  # one person: plain mode
    at.number_input(key=state.MAX_POSES).set_value(4).run()
    assert at.toggle(key=f"{state.CROWD}-on").value  # several: find everyone, by default
    upload(at, ("group.jpg", encode(canvas), "image/jpeg"))
    picker = next(w for w in at.segmented_control if w.label == "Person")  # the person picker
    assert picker.options == ["Person 1", "Person 2", "Person 3"]
    calls = len(detect_calls)
    picker.set_value(2).run()  # the picked person is highlighted in the picture: no model call
    assert not at.exception and len(detect_calls) == calls
    assert any("Person 2 ·" in c.value for c in at.caption)
    assert any("search" in c.value and "3 person(s)" in c.value for c in at.caption)  # the time it took


def test_the_batch_zip_has_safe_unique_entry_names_and_maps_them_in_its_json(astronaut_png, hopper_jpeg):
    from ui.views import batch_zip  # noqa: PLC0415
    from ui.widgets import InputImage  # noqa: PLC0415

    items = [
        InputImage("..\\..\\x.jpg", hopper_jpeg, "d1"),  # a Windows-style path from a hostile client
        InputImage("x.png", astronaut_png, "d2"),
        InputImage("broken.jpg", b"not an image", "d3"),
    ]
    outcomes = [state.analyze_bytes(i.data, PoseSettings(), i.digest) for i in items]
    with zipfile.ZipFile(io.BytesIO(batch_zip(items, outcomes, DrawStyle()))) as zf:
        names = sorted(zf.namelist())
        doc = json.loads(zf.read("poses.json"))
    assert names == ["landmarks.csv", "overlays/x-2.overlay.jpg", "overlays/x.overlay.jpg", "poses.json"]
    assert [img["overlay"] for img in doc["images"]] == ["overlays/x.overlay.jpg", "overlays/x-2.overlay.jpg", None]


def test_results_evicted_from_the_shared_cache_are_still_not_recomputed_for_their_session(astronaut_png, detect_calls):
    at = upload(open_page(), ("astronaut.png", astronaut_png, "image/png"))
    state.clear_caches()  # as if other sessions' photos had pushed this one out
    at.slider(key=state.VISIBILITY_THRESHOLD).set_value(0.2).run()
    at.toggle(key=state.ANGLE_ARCS).set_value(True).run()
    assert not at.exception and len(detect_calls) == 1


# ---------------------------------------------------------------- compare and postures

COMPARE_PAGE = "pages/compare.py"
POSTURES_PAGE = "pages/postures.py"


def test_two_portraits_are_refused_for_comparison_with_the_reason(detect_calls, hopper_jpeg):
    at = open_page(COMPARE_PAGE)
    astronaut = (REPO / "samples" / "astronaut.jpg").read_bytes()
    at.file_uploader(key=state.COMPARE_REFERENCE).set_value(("astronaut.jpg", astronaut, "image/jpeg")).run()
    at.file_uploader(key=f"{state.COMPARE_OTHER}-photo").set_value(("hopper.jpg", hopper_jpeg, "image/jpeg")).run()
    assert not at.exception, at.exception
    assert "seen clearly in both" in at.error[0].value, "head-and-shoulders portraits: too little body"
    assert len(detect_calls) == 2


def test_two_videos_are_aligned_scored_and_shown_in_step(astronaut_rgb, video_detect_calls):
    from tests.helpers import encode_clip, stage

    teacher = encode_clip([stage(astronaut_rgb, t) for t in range(8)])
    student = encode_clip([stage(astronaut_rgb, t // 2) for t in range(16)])  # the same, at half the pace
    at = open_page(COMPARE_PAGE)
    at.segmented_control(key=state.COMPARE_MODE).set_value("Two videos").run()
    at.file_uploader(key=f"{state.COMPARE_REFERENCE}-video").set_value(("t.mp4", teacher, "video/mp4")).run()
    at.file_uploader(key=f"{state.COMPARE_OTHER}-video").set_value(("s.mp4", student, "video/mp4")).run()
    assert not at.exception, at.exception
    assert at.metric[0].label.startswith("Similarity") and "/ 100" in at.metric[0].value
    assert any("Score" in c.value and "torso lengths" in c.value for c in at.caption), "its definition beside it"
    assert len(video_detect_calls) == 24
    at.slider(key=state.COMPARE_FRAME).set_value(6).run()
    assert not at.exception, at.exception
    at.button(key="compare-make-video").click().run()
    assert not at.exception, at.exception
    assert len(at.get("video")) == 1
    assert len(video_detect_calls) == 24, "moving through the clips never re-runs the model"


def test_a_taught_classifier_names_postures_on_the_image_page(detect_calls, hopper_jpeg):
    at = open_page(POSTURES_PAGE)
    astronaut = (REPO / "samples" / "astronaut.jpg").read_bytes()
    for slot, (name, data) in enumerate((("spacewalk", astronaut), ("navy", hopper_jpeg))):
        at.text_input(key=f"posture-class-{slot}").set_value(name).run()
        at.file_uploader(key=f"posture-files-{slot}").set_value([(f"{name}.jpg", data, "image/jpeg")]).run()
    at.button(key=state.POSTURE_TEACH).click().run()
    assert not at.exception, at.exception
    assert "spacewalk" in at.success[0].value and "navy" in at.success[0].value
    assert {b.label for b in at.get("download_button")} >= {"Save the classifier (JSON)"}
    at.switch_page(PAGE).run()
    upload(at, ("hopper.jpg", hopper_jpeg, "image/jpeg"))
    assert any("**navy**" in m.value for m in at.markdown), "the taught class, not the rules"
    assert any("taught classifier" in c.value for c in at.caption)


# ---------------------------------------------------------------- linked views and shared links


def select_rows(at: AppTest, key_suffix: str, rows: list[int], monkeypatch: pytest.MonkeyPatch) -> AppTest:
    """Select rows of the dataframe whose key ends in ``key_suffix`` and rerun, sending the
    widget state the browser sends when rows are ticked (AppTest cannot tick them)."""
    from streamlit.testing.v1.element_tree import ElementTree  # noqa: PLC0415

    frame = next(d for d in at.dataframe if d.key and d.key.endswith(key_suffix))
    real = ElementTree.get_widget_states
    # NOTE: the browser sends the selection as a JSON string inside the JSON value.
    selection = json.dumps(json.dumps({"selection": {"rows": rows, "columns": [], "cells": []}}))

    def with_selection(self):  # noqa: ANN001, ANN202
        states = real(self)
        added = states.widgets.add()
        added.id, added.json_value = frame.proto.id, selection
        return states

    monkeypatch.setattr(ElementTree, "get_widget_states", with_selection)
    at.run()
    assert not at.exception, at.exception
    return at


def _three_d_spec(at: AppTest) -> dict:
    """The 3D skeleton's figure (the only chart with 3D traces)."""
    return next(json.loads(c.proto.spec) for c in at.get("plotly_chart") if "scatter3d" in c.proto.spec)


def test_selecting_a_landmark_row_highlights_it_in_the_pictures_and_in_3d(astronaut_png, detect_calls, monkeypatch):
    at = upload(open_page(), ("astronaut.png", astronaut_png, "image/png"))
    before = images(at)[1].proto.imgs[0]
    assert before.caption == "Skeleton"
    select_rows(at, "-table", [13], monkeypatch)  # 13: left elbow
    after = images(at)[1].proto.imgs[0]
    assert after.caption == "Skeleton · highlighted: left elbow"
    assert after.url != before.url, "the overlay is drawn again, with the landmark highlighted"
    names = [trace.get("name") for trace in _three_d_spec(at)["data"]]
    assert "selected" in names, "the 3D view marks the selected landmark too"
    assert len(detect_calls) == 1, "a selection never runs the model"


def test_selecting_an_angle_row_highlights_its_three_points_and_shows_its_definition(
    astronaut_png, detect_calls, monkeypatch
):
    at = upload(open_page(), ("astronaut.png", astronaut_png, "image/png"))
    select_rows(at, "-angles", [0], monkeypatch)  # the first angle: left elbow
    assert images(at)[1].proto.imgs[0].caption == "Skeleton · highlighted: Left elbow"
    assert "Left elbow" in at.info[0].value and "180° = straight line" in at.info[0].value, "its definition in full"
    selected = next(tr for tr in _three_d_spec(at)["data"] if tr.get("name") == "selected")
    assert selected["text"] == ["left shoulder", "left elbow", "left wrist"]
    assert len(detect_calls) == 1


def test_a_shared_link_opens_the_page_with_its_settings(astronaut_png, detect_calls):
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.query_params.update(
        {"lang": "zh", "model": "lite", "visibility_threshold": "0.3", "line_width": "6", "max_poses": "3"}
    )
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception, at.exception
    assert at.title[0].value == "图片分析"
    assert at.selectbox(key=state.MODEL).value == "lite"
    assert at.slider(key=state.VISIBILITY_THRESHOLD).value == pytest.approx(0.3)
    assert at.select_slider(key=state.LINE_WIDTH).value == 6
    assert at.number_input(key=state.MAX_POSES).value == 3
    assert at.toggle(key=f"{state.CROWD}-on").value, "several people: find everyone, as without a link"
    upload(at, ("astronaut.png", astronaut_png, "image/png"))
    assert detect_calls and all(c == (512, 512) for c in detect_calls[:1])


def test_the_language_switch_is_written_to_the_link():
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=60)
    at.run()
    assert at.query_params["lang"] in ("en", ["en"])  # a browser without a Chinese locale: English
    at.segmented_control(key="lang").set_value("zh").run()
    assert at.title[0].value == "PoseLab 姿态实验室"
    assert at.query_params["lang"] in ("zh", ["zh"])
