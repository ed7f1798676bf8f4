"""Two languages from two catalogues: both complete, nothing on a page bypasses them, and
the app in Chinese shows Chinese (with the real model on a real photo)."""

from __future__ import annotations

import ast
import re
import string
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from pose_core.angles import ANGLE_SPECS
from pose_core.models import VARIANTS
from pose_core.postures import POSTURES, posture_for
from pose_core.schema import LANDMARKS, Region, Side
from pose_core.smoothing import METHODS
from pose_core.types import PoseSettings
from tests.helpers import REPO
from ui import state
from ui.i18n import catalogue

APP_FILES = sorted([REPO / "streamlit_app.py", *(REPO / "pages").glob("*.py"), *(REPO / "ui").glob("*.py")])


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_both_catalogues_have_exactly_the_same_keys_and_fields():
    en, zh = catalogue("en"), catalogue("zh")
    assert set(en) == set(zh), f"only in en: {set(en) - set(zh)}; only in zh: {set(zh) - set(en)}"
    for key in en:
        assert en[key].strip() and zh[key].strip(), f"{key} is empty"
        assert _fields(en[key]) == _fields(zh[key]), f"{key}: the {{fields}} differ between the languages"


def test_every_name_the_app_shows_is_in_the_catalogue():
    keys = set(catalogue("en"))
    wanted = (
        [f"angle.{s.name}.{part}" for s in ANGLE_SPECS for part in ("label", "definition")]
        + [f"landmark.{lm.name}" for lm in LANDMARKS]
        + [f"posture.{p}" for p in (*POSTURES, "unknown")]
        + [f"region.{r.value}" for r in Region]
        + [f"side.{s.value}" for s in Side]
        + [f"model.desc.{v}" for v in VARIANTS]
        + [f"video.smoothing.{m}" for m in METHODS]
    )
    assert not [k for k in wanted if k not in keys]


def test_english_angle_names_are_the_library_s_own():
    """The CLI and files say "Left elbow": the English app says it the same way."""
    en = catalogue("en")
    assert all(en[f"angle.{s.name}.label"] == s.label for s in ANGLE_SPECS)
    assert all(en[f"angle.{s.name}.definition"] == s.definition for s in ANGLE_SPECS)


def _literal_keys(tree: ast.AST) -> set[str]:
    return {
        node.args[0].value
        for node in ast.walk(tree)
        if isinstance(node, ast.Call)
        and isinstance(node.func, ast.Name)
        and node.func.id == "t"
        and node.args
        and isinstance(node.args[0], ast.Constant)
    }


def test_every_key_the_code_asks_for_exists():
    keys = set(catalogue("en"))
    asked = {k for path in APP_FILES for k in _literal_keys(ast.parse(path.read_text()))}
    assert asked and not asked - keys, f"missing from the catalogues: {asked - keys}"


# ---------------------------------------------------------------- no page text bypasses the catalogue

# Streamlit calls (st.x, column.x, ...) whose arguments people read, and which of them.
TEXT_CALLS = {
    **dict.fromkeys(
        (
            "title",
            "header",
            "subheader",
            "markdown",
            "caption",
            "text",
            "info",
            "warning",
            "error",
            "success",
            "toast",
            "button",
            "download_button",
            "selectbox",
            "radio",
            "slider",
            "select_slider",
            "toggle",
            "checkbox",
            "number_input",
            "text_input",
            "file_uploader",
            "camera_input",
            "multiselect",
            "pills",
            "segmented_control",
            "color_picker",
            "expander",
            "popover",
            "spinner",
            "write",
            "TextColumn",
            "NumberColumn",
            "ProgressColumn",
            "Download",
        ),
        1,
    ),  # noqa: E501
    "metric": 3,
    "tabs": 1,
    "image": 0,
    "progress": 0,
    "Page": 0,
    "page_link": 0,
}
TEXT_KEYWORDS = {"label", "help", "caption", "placeholder", "text", "title", "format_func", "body"}
# Words that are the same in every language here: units, formats, product names.
SAME_IN_EVERY_LANGUAGE = re.compile(r":material/[a-z_]+:|\b(fps|CSV|JSON|PNG|MP4|ZIP|PoseLab)\b")


def _reads_as_english(text: str) -> bool:
    return bool(re.search(r"[A-Za-z]{3,}", SAME_IN_EVERY_LANGUAGE.sub("", text)))


def _strings_shown(node: ast.AST) -> list[str]:
    """String literals in ``node`` that would be shown: not inside t(...) (a key), not a
    dict key or subscript (data), not a keyword that is not text (key=, icon=, ...)."""
    found: list[str] = []

    def visit(n: ast.AST) -> None:
        if isinstance(n, ast.Call) and isinstance(n.func, ast.Name) and n.func.id in {"t", "has", "md_escape"}:
            return
        if isinstance(n, ast.Subscript):
            return
        if isinstance(n, ast.Dict):  # a lookup table's keys are values; what it gives is shown
            for v in n.values:
                visit(v)
            return
        if isinstance(n, ast.Constant) and isinstance(n.value, str):
            found.append(n.value)
            return
        if isinstance(n, ast.Call):
            for kw in n.keywords:
                if kw.arg in TEXT_KEYWORDS:
                    visit(kw.value)
            visit(n.func)
            for a in n.args:
                visit(a)
            return
        if isinstance(n, ast.Compare):  # a comparison's literals are values, not text
            return
        for child in ast.iter_child_nodes(n):
            visit(child)

    visit(node)
    return found


def untranslated_texts(source: str) -> list[tuple[int, str]]:
    """(line, text) of each English literal handed to a Streamlit text call."""
    hits = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        name = node.func.attr if isinstance(node.func, ast.Attribute) else getattr(node.func, "id", "")
        if name not in TEXT_CALLS:
            continue
        shown = list(node.args[: TEXT_CALLS[name]]) + [kw.value for kw in node.keywords if kw.arg in TEXT_KEYWORDS]
        for arg in shown:
            hits += [(node.lineno, s) for s in _strings_shown(arg) if _reads_as_english(s)]
    return hits


def test_the_bypass_check_catches_text_that_skips_the_catalogue():
    assert untranslated_texts('st.button("Save it")') == [(1, "Save it")]
    assert untranslated_texts('col.caption(f"Person {n} found")')
    assert untranslated_texts('st.selectbox(t("k"), opts, format_func=lambda p: f"Person {p}")')
    assert untranslated_texts('st.info(t("k") + " and more words")')
    assert not untranslated_texts('st.button(t("save"), key="save-button", icon=":material/save:")')
    assert not untranslated_texts("st.caption(f\"{t('a')} · {n} fps\")")


@pytest.mark.parametrize("path", APP_FILES, ids=lambda p: str(p.relative_to(REPO)))
def test_no_page_text_bypasses_the_catalogue(path: Path):
    assert untranslated_texts(path.read_text()) == []


# ---------------------------------------------------------------- the app in Chinese

ENGLISH_PHRASE = re.compile(r"[A-Za-z]{3,}[ ,]+[A-Za-z]{3,}")
# Names and code, the same in both languages.
KEPT_AS_IS = re.compile(r"`[^`]*`|MediaPipe Pose Landmarker|Google|PoseLab|\S+\.(jpg|png|json|mp4)")


def _texts(at: AppTest) -> list[str]:
    texts = [e.value for kind in ("title", "header", "subheader", "markdown", "caption", "info", "warning", "error")
             for e in getattr(at, kind)]  # fmt: skip
    for kind in ("button", "selectbox", "radio", "slider", "toggle", "number_input", "file_uploader", "expander",
                 "select_slider", "segmented_control", "download_button", "color_picker", "tabs"):  # fmt: skip
        texts += [w.label for w in getattr(at, kind)]
    return texts


def _english(texts: list[str], allowed: set[str]) -> list[str]:
    return [x for x in texts if x not in allowed and ENGLISH_PHRASE.search(KEPT_AS_IS.sub("", x))]


@pytest.fixture
def zh_app() -> AppTest:
    state.clear_caches()
    at = AppTest.from_file(str(REPO / "streamlit_app.py"), default_timeout=120)
    at.query_params["lang"] = "zh"
    at.run()
    assert not at.exception
    return at


def test_lang_zh_in_the_link_shows_chinese_titles_and_labels(zh_app):
    at = zh_app
    assert at.title[0].value == "PoseLab 姿态实验室"
    assert at.segmented_control(key="lang").value == "zh"
    at.switch_page("pages/image_analysis.py").run()
    assert at.title[0].value == "图片分析"
    assert at.selectbox(key=state.MODEL).label == "模型版本"
    assert at.slider(key=state.VISIBILITY_THRESHOLD).label == "可见度阈值"
    assert _english(_texts(at), set()) == []


@pytest.mark.parametrize("page", ["pages/home.py", "pages/video_analysis.py", "pages/compare.py", "pages/postures.py"])
def test_every_page_in_chinese_has_no_english_sentence(zh_app, page):
    zh_app.switch_page(page).run()
    assert not zh_app.exception
    assert _english(_texts(zh_app), set()) == []


def test_a_photo_analysed_in_chinese_has_no_english_sentence_beyond_the_library_s_measurements(zh_app):
    data = (REPO / "samples" / "grace_hopper.jpg").read_bytes()
    at = zh_app
    at.switch_page("pages/image_analysis.py").run()
    at.file_uploader(key=state.UPLOADER).set_value([("hopper.jpg", data, "image/jpeg")]).run()
    assert not at.exception, at.exception
    pose = state.analyze_bytes(data, PoseSettings()).analysis.poses[0]
    reason = posture_for(pose).reason  # pose_core's measurements, in English as in the JSON
    texts = _texts(at)
    assert any("关节角度" in x for x in texts) and any("第 1 人" in x for x in texts)
    assert _english(texts, {reason}) == []
    angle_table = next(d.value for d in at.dataframe if "定义" in d.value.columns)
    assert "左肘" in set(angle_table["角度"])
