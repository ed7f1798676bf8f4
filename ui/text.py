"""Putting user-supplied text (file names) into Markdown safely."""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation, and an escaped character is
# never syntax: no link, image, emphasis, HTML, LaTeX, autolinked URL, or Streamlit
# directive (":red[...]", ":material/...:") can start from it.
_PUNCTUATION = re.compile(r"([!-/:-@\[-`{-~])")


def md_escape(text: str) -> str:
    """``text`` shown as itself inside Markdown: a file named ``![t](http://host/x.png)``
    must neither load that address in every visitor's browser nor become a link."""
    return _PUNCTUATION.sub(r"\\\1", " ".join(text.splitlines()))
