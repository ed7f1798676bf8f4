"""The app's words in English and Simplified Chinese: one catalogue file per language
(``ui/locales/<lang>.toml``), looked up by key with :func:`t`.

The language follows the browser (``st.context.locale``), the sidebar switch, and
``?lang=zh`` / ``?lang=en`` in the URL (the switch is bound to that query parameter).
The command line, the library and the file formats stay English; a one-line error from
``pose_core`` is shown as it is, under a translated lead-in.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

import streamlit as st
import tomllib

LANGUAGES: tuple[str, ...] = ("en", "zh")
DEFAULT_LANGUAGE = "en"
LANG = "lang"  # the switch's key, and the query parameter's name
CHOSEN = "lang_chosen"  # session state: the language chosen, kept across pages
LOCALES_DIR = Path(__file__).with_name("locales")


def _flatten(table: Mapping[str, Any], prefix: str = "") -> dict[str, str]:
    flat: dict[str, str] = {}
    for name, value in table.items():
        key = f"{prefix}{name}"
        if isinstance(value, Mapping):
            flat.update(_flatten(value, f"{key}."))
        else:
            flat[key] = str(value)
    return flat


@cache
def catalogue(lang: str) -> dict[str, str]:
    """Every key of one language, flattened to dotted keys (``angle.left_elbow.label``)."""
    with (LOCALES_DIR / f"{lang}.toml").open("rb") as f:
        return _flatten(tomllib.load(f))


def browser_language() -> str:
    """The language the browser asks for: Chinese for any ``zh*`` locale, else English."""
    try:
        locale = st.context.locale or ""
    except Exception:  # noqa: BLE001 - no browser context (bare mode): the default
        locale = ""
    return "zh" if locale.lower().startswith("zh") else DEFAULT_LANGUAGE


def current_language() -> str:
    lang = st.session_state.get(LANG)
    return lang if lang in LANGUAGES else browser_language()


def t(key: str, /, **fmt: object) -> str:
    """The text for ``key`` in the current language, with ``{name}`` fields filled in.

    A key missing from the catalogue is a bug (tests check both files have every key);
    it shows as the key itself rather than breaking the page."""
    text = catalogue(current_language()).get(key) or catalogue(DEFAULT_LANGUAGE).get(key, key)
    return text.format(**fmt) if fmt else text


def has(key: str) -> bool:
    return key in catalogue(DEFAULT_LANGUAGE)


def landmark_name(name: str) -> str:
    """A landmark's name for people (``left_eye_inner`` -> "Left eye, inner")."""
    return t(f"landmark.{name}")


def landmark_names() -> dict[str, str]:
    from pose_core.schema import LANDMARKS  # noqa: PLC0415

    return {lm.name: landmark_name(lm.name) for lm in LANDMARKS}


def angle_label(name: str) -> str:
    return t(f"angle.{name}.label")


def angle_definition(name: str) -> str:
    return t(f"angle.{name}.definition")


def posture_label(label: str) -> str:
    """A posture's name: the rules' labels translated, a taught class's as its teacher named it."""
    return t(f"posture.{label}") if has(f"posture.{label}") else label


def language_ui() -> str:
    """The sidebar's language switch; returns the language in use.

    The first run of a session takes ``?lang=`` from the URL, else the browser's
    language; the choice is written back to the URL, so a shared link keeps it.

    NOTE: not Streamlit's ``bind="query-params"``: a bound widget with a ``format_func``
    puts the shown label in the URL (``?lang=中文``), and links should say ``?lang=zh``.
    """
    # NOTE: this script runs on every page, and Streamlit gives its widgets a new
    # identity on each page (their state starts afresh): the choice is kept under a key
    # of our own, and handed to the switch on every run.
    chosen = st.session_state.get(LANG)
    if chosen not in LANGUAGES:
        asked = st.query_params.get(LANG)
        chosen = st.session_state.get(CHOSEN) or (asked if asked in LANGUAGES else browser_language())
    st.session_state[LANG] = chosen
    with st.sidebar:
        st.segmented_control(
            t("lang.label"),
            LANGUAGES,
            format_func=lambda code: catalogue(code)["lang.name"],
            key=LANG,
            required=True,
        )
    lang = current_language()
    st.session_state[CHOSEN] = lang
    if st.query_params.get(LANG) != lang:
        st.query_params[LANG] = lang
    return lang
