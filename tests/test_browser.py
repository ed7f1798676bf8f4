"""End to end: `streamlit run` in a subprocess, driven by Playwright in Debian's Chromium."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers import CHROMIUM_ARGS, REPO, running_app

CHROMIUM = Path("/usr/bin/chromium")
pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not CHROMIUM.exists(), reason="Debian's chromium is not installed (apt-get install chromium)"),
]
playwright_api = pytest.importorskip("playwright.sync_api", reason="playwright is not installed")


@pytest.fixture(scope="module")
def app_url(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with running_app(tmp_path_factory.mktemp("streamlit") / "server.log") as url:
        yield url


@pytest.fixture(scope="module")
def browser() -> Iterator[object]:
    with playwright_api.sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def outside_requests(page) -> list[str]:  # noqa: ANN001
    """Every request the page makes to a host other than this machine, as it happens."""
    from urllib.parse import urlparse  # noqa: PLC0415

    seen: list[str] = []
    page.on(
        "request",
        lambda r: (
            seen.append(r.url)
            if urlparse(r.url).scheme in ("http", "https", "ws", "wss") and urlparse(r.url).hostname not in LOCAL_HOSTS
            else None
        ),
    )
    return seen


def _open_and_upload(browser, app_url: str, width: int, files: list[str], height: int = 1000, path: str = ""):  # noqa: ANN001, ANN202, E501
    page = browser.new_page(viewport={"width": width, "height": height}, accept_downloads=True)
    page.goto(f"{app_url}/image_analysis{path}")
    page.wait_for_selector("[data-testid='stFileUploaderDropzone']", timeout=60_000)
    page.locator("input[type=file]").set_input_files(files)
    page.wait_for_selector("[data-testid='stPlotlyChart']", timeout=90_000)
    return page


def test_upload_a_photo_and_see_everything(browser, app_url, tmp_path):
    """The first test of this module: the server is fresh, and its first visitor lands
    straight on a page's URL. They must get the app's navigation and wide layout (not
    Streamlit's legacy pages/ mode, which a fresh server would otherwise lock itself in)."""
    page = _open_and_upload(browser, app_url, 1280, [str(REPO / "samples" / "astronaut.jpg")])
    nav = page.locator("[data-testid='stSidebarNav']")
    assert [nav.get_by_text(name, exact=True).count() for name in ("Home", "Image analysis", "Video analysis")] == [
        1,
        1,
        1,
    ]
    assert page.locator("[data-testid='stMainBlockContainer']").bounding_box()["width"] > 800  # layout="wide"
    assert page.locator("[data-testid='stImage']").count() == 2  # original and skeleton
    tables = page.locator("[data-testid='stDataFrame'] table")
    assert tables.first.get_attribute("aria-rowcount") == "13"  # header + 12 angles
    assert tables.last.get_attribute("aria-rowcount") == "34"  # header + 33 landmarks
    assert page.locator("[data-testid='stPlotlyChart'] .js-plotly-plot").count() == 2  # 3D, and the landmark map
    page.screenshot(path=str(tmp_path / "wide.png"))

    with page.expect_download() as download_info:
        page.get_by_role("button", name="Landmarks (CSV)").click()
    download = download_info.value
    assert download.suggested_filename == "astronaut.landmarks.csv"
    lines = Path(download.path()).read_text().splitlines()
    assert lines[0].startswith("source,frame,time_s,person,index,name,region,side,x_px,y_px")
    assert len(lines) == 34
    page.close()


def test_a_narrow_window_stacks_and_a_batch_keeps_going(browser, app_url, tmp_path):
    broken = tmp_path / "broken.jpg"
    broken.write_bytes(b"\xff\xd8\xff\xe0 not a real jpeg")
    page = _open_and_upload(browser, app_url, 420, [str(REPO / "samples" / "grace_hopper.jpg"), str(broken)])
    summary = page.locator("[data-testid='stDataFrame'] table").first
    assert summary.get_attribute("aria-rowcount") == "3"  # header + 2 files, the broken one listed
    original, skeleton = (page.locator("[data-testid='stImage']").nth(i).bounding_box() for i in (0, 1))
    assert original["y"] >= skeleton["y"] + skeleton["height"] - 1, "stacked in a narrow window, the skeleton first"
    assert skeleton["y"] + skeleton["height"] <= 1000, "the skeleton is in the first screen"
    assert page.evaluate("document.documentElement.scrollWidth") <= 420, "no sideways scrolling of the page"
    status = page.get_by_text("unreadable", exact=False).first.bounding_box()
    assert status is not None and status["x"] + 20 < 420, "each file's status is in view, not off to the right"
    page.screenshot(path=str(tmp_path / "narrow.png"), full_page=True)
    page.close()


def test_upload_a_video_and_the_annotated_video_plays(browser, app_url, tmp_path, astronaut_rgb):
    from tests.helpers import encode_clip, stage

    clip = tmp_path / "slide.mp4"
    clip.write_bytes(encode_clip([stage(astronaut_rgb, t) for t in range(20)]))
    page = browser.new_page(viewport={"width": 1280, "height": 1000})
    outside = outside_requests(page)
    page.goto(f"{app_url}/video_analysis")
    page.wait_for_selector("[data-testid='stFileUploaderDropzone']", timeout=60_000)
    page.locator("input[type=file]").set_input_files(str(clip))
    page.wait_for_selector("[data-testid='stPlotlyChart'] .js-plotly-plot", timeout=120_000)
    video = page.locator("video").first
    video.wait_for(timeout=30_000)
    page.wait_for_function("document.querySelector('video').readyState >= 1", timeout=30_000)
    assert video.evaluate("v => v.duration") == pytest.approx(2.0, abs=0.15)  # 20 frames at 10 fps
    video.evaluate("v => { v.muted = true; return v.play(); }")
    page.wait_for_function("document.querySelector('video').currentTime > 0.2", timeout=30_000)
    assert page.locator("[data-testid='stPlotlyChart'] .scatterlayer .trace").count() >= 4  # raw + smoothed lines
    page.screenshot(path=str(tmp_path / "video.png"))
    assert outside == [], "nothing leaves this machine while a video is analysed"
    page.close()


def _in_view(box: dict, width: int, height: int) -> bool:
    return box["x"] >= 0 and box["y"] >= 0 and box["x"] + box["width"] <= width and box["y"] + box["height"] <= height


def test_on_a_projector_both_pictures_are_in_the_first_screen(browser, app_url, tmp_path):
    """1280x720 with the sidebar collapsed, as a teacher presents: after an upload the
    original and the skeleton are both whole without scrolling."""
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{app_url}/image_analysis")
    page.wait_for_selector("[data-testid='stFileUploaderDropzone']", timeout=60_000)
    page.locator("[data-testid='stSidebarCollapseButton'] button").evaluate("b => b.click()")
    page.wait_for_function("document.querySelector('[data-testid=stSidebar]').getBoundingClientRect().right <= 1")
    page.locator("input[type=file]").set_input_files(str(REPO / "samples" / "astronaut.jpg"))
    page.wait_for_selector("[data-testid='stPlotlyChart']", timeout=90_000)
    page.evaluate("window.scrollTo(0, 0)")
    boxes = [page.locator("[data-testid='stImage'] img").nth(i).bounding_box() for i in (0, 1)]
    page.screenshot(path=str(tmp_path / "projector.png"))
    assert all(_in_view(b, 1280, 720) for b in boxes), boxes
    assert min(b["height"] for b in boxes) > 300, "and large enough to read from the back of the room"
    page.close()


def test_on_a_phone_the_skeleton_comes_first(browser, app_url, tmp_path):
    page = _open_and_upload(browser, app_url, 420, [str(REPO / "samples" / "astronaut.jpg")], height=900)
    page.evaluate("window.scrollTo(0, 0)")
    original, skeleton = (page.locator("[data-testid='stImage'] img").nth(i).bounding_box() for i in (0, 1))
    page.screenshot(path=str(tmp_path / "phone.png"))
    assert _in_view(skeleton, 420, 900) and skeleton["y"] < original["y"]
    assert page.evaluate("document.documentElement.scrollWidth") <= 420
    page.close()


def test_lang_zh_in_the_link_shows_the_app_in_chinese(browser, app_url, tmp_path):
    page = browser.new_page(viewport={"width": 1280, "height": 720})
    page.goto(f"{app_url}/image_analysis?lang=zh")
    page.wait_for_selector("[data-testid='stFileUploaderDropzone']", timeout=60_000)
    page.wait_for_function("document.querySelector('h1') && document.querySelector('h1').innerText === '图片分析'")
    nav = page.locator("[data-testid='stSidebarNav']")
    assert nav.get_by_text("视频分析", exact=True).count() == 1
    assert page.get_by_text("可见度阈值", exact=True).count() == 1
    assert "lang=zh" in page.url
    page.screenshot(path=str(tmp_path / "zh.png"))
    page.close()


def test_no_request_leaves_the_machine_on_any_page(browser, app_url, tmp_path):
    """Home, an analysed photo, Video, Compare and Postures (Live wants a camera)."""
    page = browser.new_page(viewport={"width": 1280, "height": 900})
    outside = outside_requests(page)
    page.goto(app_url)
    page.wait_for_selector("h1", timeout=60_000)
    page.get_by_text("Learn: the 33 landmarks", exact=False).first.wait_for()
    for path in ("video_analysis", "compare", "postures", "image_analysis"):
        page.goto(f"{app_url}/{path}")
        page.wait_for_selector("[data-testid='stFileUploaderDropzone']", timeout=60_000)
    page.locator("input[type=file]").set_input_files(str(REPO / "samples" / "grace_hopper.jpg"))
    page.wait_for_selector("[data-testid='stPlotlyChart'] .js-plotly-plot", timeout=90_000)
    page.wait_for_load_state("networkidle")
    assert outside == [], f"requests left the machine: {outside}"
    page.close()
