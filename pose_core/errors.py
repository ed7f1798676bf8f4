"""PoseLab's own error types.

Every error a user can cause (a bad file, a missing model, a bad option) is a
:class:`PoseLabError` whose message says what went wrong and what to do. The command
line and the app catch these and only these: anything else is a bug and must show its
traceback.
"""

from __future__ import annotations


class PoseLabError(Exception):
    """Base of every error PoseLab reports to a user as one line."""


class SettingsError(PoseLabError, ValueError):
    """A setting is out of range or unknown; the message lists what is allowed."""


class ModelError(PoseLabError, RuntimeError):
    """A model bundle is missing, corrupt, fails its checksum, or cannot be fetched."""


class ModelNotDownloadedError(ModelError):
    """A downloadable model (heavy) is not in the cache yet: offer the download."""


class ModelCorruptError(ModelError):
    """A model file is there but damaged or not what it claims; ``path`` names it."""

    def __init__(self, path: object, message: str) -> None:
        super().__init__(message)
        self.path = path


class ImageLoadError(PoseLabError, ValueError):
    """The input is not an image PoseLab can read; the message says why and what to do."""


class VideoLoadError(PoseLabError, ValueError):
    """The input is not a video PoseLab can read or accept; the message says why."""


class OutputError(PoseLabError, OSError):
    """A result could not be written where the user asked (no such folder, no permission)."""
