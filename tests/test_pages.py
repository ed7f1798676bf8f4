"""The pages, driven through streamlit_app.py's navigation with AppTest and the real model."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from pose_core.inference import PoseEstimator
from tests.conftest import REPO, encode
from ui import state

PAGE = "pages/image_analysis.py"


@pytest.fixture
def detect_calls(monkeypatch: pytest.MonkeyPatch) -> list[tuple[int, int]]:
    """Counts real model calls (the real detect still runs) and starts from empty caches."""
    state.analyze_bytes.clear()
    calls: list[tuple[int, int]] = []
    real_detect = PoseEstimator.detect

    def counting_detect(self: PoseEstimator, rgb):  # noqa: ANN001
        calls.append(rgb.shape[:2])
        return real_detect(self, rgb)

    monkeypatch.setattr(PoseEstimator, "detect", counting_detect)
    return calls


def open_page() -> AppTest:
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.run()
    at.switch_page(PAGE).run()
    assert not at.exception
    return at


def upload(at: AppTest, *files: tuple[str, bytes, str]) -> AppTest:
    at.file_uploader(key=state.UPLOADER).set_value(list(files)).run()
    assert not at.exception, at.exception
    return at


def images(at: AppTest) -> list:
    return [e for e in at.main if type(e).__name__ == "Image"]


def shows_full_result(at: AppTest) -> None:
    assert len(images(at)) == 2  # original and skeleton
    assert at.dataframe[-1].value.shape[0] == 33
    assert len(at.get("plotly_chart")) == 1
    angle_table = next(m.value for m in at.markdown if 'class="angles"' in m.value)
    assert "Left elbow" in angle_table and "Trunk inclination" in angle_table
    assert "180° = straight line" in angle_table  # definitions travel with the readout
    labels = [b.label for b in at.get("download_button")]
    assert {"Overlay (PNG)", "Landmarks (CSV)", "Everything (JSON)"} <= set(labels)
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
    assert "broken.jpg" in at.error[0].value and "corrupt" in at.error[0].value
    at.selectbox(key=state.OPEN_IMAGE).set_value(3).run()
    assert "No person found in **landscape.jpg**" in at.warning[0].value
    assert len(detect_calls) == 3  # the broken file never reached the model; nothing ran twice


def test_a_bad_file_alone_gets_a_clear_message_not_a_traceback(detect_calls):
    at = upload(open_page(), ("holiday.png", b"%PDF-1.7 this is a pdf", "image/png"))
    assert not at.exception
    assert "holiday.png" in at.error[0].value and "not an image PoseLab can read" in at.error[0].value
    assert detect_calls == []


def test_a_no_person_photo_explains_what_to_try(no_person_rgb, detect_calls):
    at = upload(open_page(), ("landscape.jpg", encode(no_person_rgb), "image/jpeg"))
    warning = at.warning[0].value
    assert "No person found" in warning and "Person detection" in warning
    assert len(images(at)) == 2 and not at.get("plotly_chart")


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
    at.run()  # a plain rerun, same image and settings
    at.slider(key=state.VISIBILITY_THRESHOLD).set_value(0.1).run()
    at.color_picker(key=state.JOINT_COLOR).set_value("#00FF00").run()
    at.color_picker(key=state.BONE_COLOR).set_value("#000000").run()
    at.select_slider(key=state.LINE_WIDTH).set_value(6).run()
    at.toggle(key=state.ANGLE_ARCS).set_value(True).run()
    assert not at.exception
    assert len(detect_calls) == 1, "display-only changes must reuse the cached result"
    # Low threshold: the angles are no longer greyed.
    angle_table = next(m.value for m in at.markdown if 'class="angles"' in m.value)
    assert 'class="angle-row"' in angle_table

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
