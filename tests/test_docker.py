"""The container image, checked without a container engine (none runs on our machines):
its install and run steps are the README's, it keeps tests and environments out, keeps
the models in, runs as a non-root user, and checks Streamlit's health endpoint."""

from __future__ import annotations

import fnmatch
import json
import re
import shlex

from tests.helpers import REPO

DOCKERFILE = (REPO / "Dockerfile").read_text(encoding="utf-8")
README = (REPO / "README.md").read_text(encoding="utf-8")


def instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) per Dockerfile instruction, continuation lines joined."""
    joined = re.sub(r"\\\n", " ", DOCKERFILE)
    found = []
    for raw in joined.splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            word, _, rest = line.partition(" ")
            found.append((word.upper(), rest.strip()))
    return found


def readme_quick_start() -> tuple[str, list[str]]:
    """The README's run command: (its install step, its run command as words)."""
    command = re.search(r"```bash\n(pip install -r requirements\.txt && streamlit run [^\n]+)\n```", README)
    assert command, "the README's quick start command is missing"
    install, run = command.group(1).split(" && ")
    return install, shlex.split(run)


def env() -> dict[str, str]:
    pairs: dict[str, str] = {}
    for word, args in instructions():
        if word == "ENV":
            pairs.update(dict(item.split("=", 1) for item in shlex.split(args)))
    return pairs


def test_the_image_installs_and_runs_what_the_readme_says():
    install, run = readme_quick_start()
    runs = [args for word, args in instructions() if word == "RUN"]
    assert install in runs, f"no `RUN {install}`"
    cmd = [args for word, args in instructions() if word == "CMD"]
    assert len(cmd) == 1 and json.loads(cmd[0]) == run


def test_the_image_serves_the_dashboard_on_8501_and_can_serve_the_api():
    settings = env()
    assert settings["STREAMLIT_SERVER_PORT"] == "8501" and settings["STREAMLIT_SERVER_ADDRESS"] == "0.0.0.0"
    exposed = [args.split() for word, args in instructions() if word == "EXPOSE"]
    assert ["8501", "8000"] in exposed
    assert any(word == "RUN" and 'pip install ".[api]"' in args for word, args in instructions()), "serve needs it"
    assert "python -m pose_core serve --host 0.0.0.0 --port 8000" in README


def test_the_healthcheck_asks_streamlits_health_endpoint():
    (check,) = [args for word, args in instructions() if word == "HEALTHCHECK"]
    assert "POSELAB_HEALTH_URL" in check and "urlopen" in check
    assert env()["POSELAB_HEALTH_URL"] == "http://127.0.0.1:8501/_stcore/health"


def test_the_image_is_slim_and_runs_as_a_user():
    (base,) = [args for word, args in instructions() if word == "FROM"]
    assert re.fullmatch(r"python:3\.11-slim", base)
    users = [args for word, args in instructions() if word == "USER"]
    assert users and users[-1] not in ("root", "0")
    (packages,) = [args for word, args in instructions() if word == "COPY" and "packages.txt" in args]
    assert packages.startswith("packages.txt"), "system libraries come from packages.txt, one list"


def _ignored(path: str, patterns: list[str]) -> bool:
    """Docker's rule, reduced to what our .dockerignore uses: a pattern matches the path
    or a folder above it; ``**/name`` matches ``name`` at any depth; the last match wins."""
    parts = path.split("/")
    prefixes = ["/".join(parts[: n + 1]) for n in range(len(parts))]
    ignored = False
    for raw in patterns:
        pattern = raw.removeprefix("!")
        if pattern.startswith("**/"):
            hit = any(fnmatch.fnmatchcase(part, pattern.removeprefix("**/")) for part in parts)
        else:
            hit = any(fnmatch.fnmatchcase(prefix, pattern) for prefix in prefixes)
        if hit:
            ignored = not raw.startswith("!")
    return ignored


def test_dockerignore_keeps_tests_and_environments_out_and_the_models_in():
    patterns = [
        line.strip()
        for line in (REPO / ".dockerignore").read_text().splitlines()
        if line.strip() and not line.startswith("#")
    ]
    for path in ("tests/test_api.py", ".venv/bin/python", ".git/HEAD", "pose_core/__pycache__/cli.cpython-311.pyc"):
        assert _ignored(path, patterns), path
    models = sorted(p.relative_to(REPO).as_posix() for p in (REPO / "pose_core" / "assets").glob("*.task"))
    assert models
    for path in [
        *models,
        "pose_core/assets/NOTICE",
        "streamlit_app.py",
        "requirements.txt",
        "packages.txt",
        ".streamlit/config.toml",
        "pages/home.py",
        "ui/state.py",
        "samples/astronaut.jpg",
        "pyproject.toml",
        "README.md",  # pyproject's readme
    ]:
        assert not _ignored(path, patterns), path
