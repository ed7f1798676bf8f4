"""PoseLab over HTTP: ``python -m pose_core serve`` (FastAPI, served by uvicorn).

- ``POST /v1/analyze``: one or more photos (multipart field ``images``) in, exactly the
  JSON of ``python -m pose_core analyze`` out.
- ``POST /v1/video``: a video (field ``video``) in, the JSON of ``python -m pose_core
  video`` out, or with ``output=mp4`` the annotated MP4.
- ``GET /v1/health``: liveness and the queue; ``/docs``: the OpenAPI pages.

Options are the command line's (``model``, ``max_poses``, ``min_*_confidence``,
``crowd``; for video also ``stride`` and ``smoothing``), as form fields or query
parameters. Inference runs on ``workers`` threads off the event loop, with one
landmarker per model setting for the whole process (an IMAGE-mode landmarker takes one
call at a time and keeps no state between images). At most ``workers + max_queue``
requests are admitted at once; the next gets 429 with ``Retry-After`` before its body
is read. Bad input gets a JSON ``{"error": "..."}`` with a 4xx status and the command
line's one-line reason; only a bug gives a 500.

FastAPI is an optional extra (``pip install 'poselab[api]'``); the command line imports
this module only for ``serve``.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import math
import threading
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from pydantic import TypeAdapter, ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from pose_core import __version__
from pose_core.analysis import EstimatorPool, analyze_image
from pose_core.drawing import DrawStyle
from pose_core.errors import ImageLoadError, ModelError, PoseLabError, VideoLoadError
from pose_core.export import ImageRecord, safe_stem, to_json, video_json
from pose_core.images import peek_size
from pose_core.limits import ServerLimits
from pose_core.smoothing import METHODS, Smoothing
from pose_core.types import CONFIDENCE_FIELDS, PoseSettings
from pose_core.video import VideoJob
from pose_core.video_io import VideoLimits

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]

HEALTH_PATH = "/v1/health"
WORK_PATHS = ("/v1/analyze", "/v1/video")  # what goes through the queue
API_KEY_HEADER = "x-api-key"


@dataclass(frozen=True)
class ServerConfig:
    workers: int = 2  # requests analysed at once (threads); the landmarker per setting is shared
    max_queue: int = 8  # requests admitted to wait for a worker; beyond that, 429
    api_key: str | None = None  # required on every route but health when set
    limits: ServerLimits = field(default_factory=ServerLimits)
    video_jobs_kept: int = 2  # analysed videos kept, so JSON then MP4 of one video runs the model once

    def __post_init__(self) -> None:
        if self.workers < 1 or self.max_queue < 0:
            raise PoseLabError(
                f"--workers must be 1 or more and --max-queue 0 or more, got {self.workers}, {self.max_queue}"
            )


class RequestError(PoseLabError):
    """A request PoseLab refuses: ``status`` (4xx, or 503 when a model is unavailable)
    and the one-line reason."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


class Admission:
    """The bounded queue: how many requests are admitted (running or waiting), and how
    long the next one should wait when it is full. Used from the event loop only."""

    def __init__(self, workers: int, max_queue: int) -> None:
        self.workers, self.capacity = workers, workers + max_queue
        self.admitted = 0
        self.mean_seconds = 1.0  # a moving average of admitted requests' durations

    def enter(self) -> bool:
        if self.admitted >= self.capacity:
            return False
        self.admitted += 1
        return True

    def leave(self, seconds: float) -> None:
        self.admitted -= 1
        self.mean_seconds = 0.8 * self.mean_seconds + 0.2 * seconds

    def retry_after_s(self) -> int:
        """Seconds until a place is likely free: the queue ahead, shared by the workers."""
        waiting_rounds = max(1, self.admitted - self.workers + 1) / self.workers
        return max(1, min(600, math.ceil(self.mean_seconds * waiting_rounds)))


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status, headers=headers)


class _BodyTooLarge(Exception):
    pass


class Gate:
    """ASGI middleware in front of every route: the API key, the request size, and
    admission to the queue, all decided before the body is read."""

    def __init__(self, app: ASGIApp, config: ServerConfig, admission: Admission) -> None:
        self.app, self.config, self.admission = app, config, admission

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope["path"]
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        refusal = self._refusal(path, headers)
        if refusal is not None:
            await refusal(scope, receive, send)
            return
        if path not in WORK_PATHS:
            await self.app(scope, receive, send)
            return
        if not self.admission.enter():
            retry = self.admission.retry_after_s()
            busy = _error(
                429,
                f"the server is busy ({self.admission.admitted} requests in progress or waiting); "
                f"try again in {retry} s",
                {"Retry-After": str(retry)},
            )
            await busy(scope, receive, send)
            return
        started = time.perf_counter()
        try:
            await self._within_size(scope, receive, send)
        finally:
            self.admission.leave(time.perf_counter() - started)

    def _refusal(self, path: str, headers: dict[str, str]) -> JSONResponse | None:
        key = self.config.api_key
        if key and path != HEALTH_PATH:
            given = headers.get(API_KEY_HEADER) or headers.get("authorization", "").removeprefix("Bearer ").strip()
            if not given:
                return _error(401, "this server needs an API key: send it as the X-API-Key header")
            if not hmac.compare_digest(given.encode(), key.encode()):
                return _error(401, "the API key is not the one this server expects")
        length = headers.get("content-length", "")
        if length.isdigit() and int(length) > self.config.limits.max_request_bytes:
            return _error(413, self._too_large_message(int(length)))
        return None

    def _too_large_message(self, size: int | None = None) -> str:
        limit = self.config.limits.max_request_bytes / 2**20
        said = f"is {size / 2**20:.0f} MB" if size is not None else "is too large"
        return f"the request {said}; a request may be up to {limit:.0f} MB: send fewer or smaller files"

    async def _within_size(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Run the app, stopping a body sent without a length (chunked) at the limit.

        NOTE: FastAPI reports any failure while it parses a form as "400 There was an
        error parsing the body", so the gate sends the 413 itself in place of that.
        """
        budget = self.config.limits.max_request_bytes
        seen = 0
        too_large = False

        async def limited_receive() -> Message:
            nonlocal seen, too_large
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > budget:
                    too_large = True
                    raise _BodyTooLarge
            return message

        async def checked_send(message: Message) -> None:
            if not too_large:
                await send(message)
            elif message["type"] == "http.response.start":
                await _error(413, self._too_large_message())(scope, receive, send)

        await self.app(scope, limited_receive, checked_send)


# ---------------------------------------------------------------- the work (worker threads)


class SharedModels:
    """The process's landmarkers (one per model setting) and its recently analysed
    videos; safe to use from every worker thread."""

    def __init__(self, video_jobs_kept: int) -> None:
        self.estimators = EstimatorPool()
        self._lock = threading.Lock()
        self._video_jobs: OrderedDict[tuple[str, PoseSettings, int], VideoJob] = OrderedDict()
        self._video_jobs_kept = video_jobs_kept

    def model_for(self, settings: PoseSettings) -> Any:
        try:
            return self.estimators(settings.landmarker).model
        except ModelError as exc:
            raise RequestError(503, str(exc)) from None

    def video_job(self, digest: str, settings: PoseSettings, stride: int, limits: VideoLimits) -> VideoJob:
        key = (digest, settings, stride)
        with self._lock:
            job = self._video_jobs.get(key)
            if job is None:
                job = VideoJob(settings, stride=stride, limits=limits, estimator_for=self.estimators)
                self._video_jobs[key] = job
                while len(self._video_jobs) > self._video_jobs_kept:
                    self._video_jobs.popitem(last=False)
            self._video_jobs.move_to_end(key)
            return job

    def close(self) -> None:
        with self._lock:
            self._video_jobs.clear()
        self.estimators.close()


def analyze_uploads(
    files: Sequence[tuple[str, bytes]], settings: PoseSettings, models: SharedModels, limits: ServerLimits
) -> str:
    """``(file name, bytes)`` pairs in, the command line's JSON out (the names stand for
    its paths). Raises :class:`RequestError` for a request PoseLab refuses as a whole:
    too many photos or pixels, or not one photo readable."""
    if not files:
        raise RequestError(422, "no images: send one or more files in the multipart field 'images'")
    if len(files) > limits.max_images:
        raise RequestError(
            413, f"{len(files)} images in one request; the limit is {limits.max_images}: send the rest in another"
        )
    sizes = [peek_size(data) for _, data in files]
    pixels = sum(w * h for w, h in (s for s in sizes if s is not None))
    if pixels > limits.max_batch_pixels:
        raise RequestError(
            413,
            f"the images hold {pixels / 1e6:.0f} MP together; a request may hold up to "
            f"{limits.max_batch_pixels / 1e6:.0f} MP: send fewer at once",
        )
    model = models.model_for(settings)
    records = []
    for name, data in files:
        try:
            _, analysis = analyze_image(data, settings, models.estimators, max_decode_pixels=limits.decode_pixels)
        except ImageLoadError as exc:
            records.append(ImageRecord(source=name, analysis=None, error=str(exc)))
        else:
            records.append(ImageRecord(source=name, analysis=analysis))
    if all(r.error for r in records):
        raise RequestError(422, "; ".join(f"{r.source}: {r.error}" for r in records))
    return to_json(records, settings, model)


def analyze_video_upload(
    name: str,
    data: bytes,
    settings: PoseSettings,
    *,
    stride: int,
    smoothing: Smoothing,
    mp4: bool,
    models: SharedModels,
    limits: ServerLimits,
) -> bytes | str:
    """The command line's video JSON for one uploaded video, or with ``mp4`` the
    annotated video. Raises :class:`RequestError` for a video PoseLab cannot read or
    accept (a damaged one is analysed as far as it goes, and the JSON says so)."""
    models.model_for(settings)  # a missing model is the server's problem (503), not the video's
    job = models.video_job(hashlib.sha256(data).hexdigest(), settings, stride, limits.video)
    try:
        render = job.render(data, smoothing, DrawStyle(), video=mp4)
    except VideoLoadError as exc:
        raise RequestError(422, str(exc)) from None
    if mp4:
        assert render.mp4 is not None
        return render.mp4
    assert job.analysis is not None
    return video_json(job.analysis, render.series, smoothing, name)


# ---------------------------------------------------------------- options


def _one_line(errors: Sequence[Any]) -> str:
    """Pydantic's validation errors as one line: "max_poses: Input should be ..."."""
    parts = []
    for error in errors:
        where = ".".join(str(p) for p in error.get("loc", ()) if p not in ("body", "query", "form"))
        parts.append(f"{where}: {error.get('msg', 'invalid')}" if where else str(error.get("msg", "invalid")))
    return "; ".join(parts) or "invalid request"


_OPTION_TYPES: dict[str, Any] = {
    "model": str,
    "max_poses": int,
    **dict.fromkeys(CONFIDENCE_FIELDS, float),
    "crowd": bool,
    "stride": int,
    "smoothing": str,
    "output": Literal["json", "mp4"],
}


def _pose_options(
    model: str | None, max_poses: int | None, confidences: tuple[float | None, ...], crowd: bool | None
) -> dict[str, Any]:
    """The PoseSettings fields a route was given (None where not), by their names."""
    return {
        "model": model,
        "max_poses": max_poses,
        "crowd": crowd,
        **dict(zip(CONFIDENCE_FIELDS, confidences, strict=True)),
    }


def _options(request: Request, form_values: dict[str, Any]) -> dict[str, Any]:
    """Each option from the form, else from the query string (converted and checked the
    way FastAPI checks form fields, so both give the same messages); unset ones left out."""
    values: dict[str, Any] = {}
    for name, given in form_values.items():
        value = given
        if value is None and name in request.query_params:
            try:
                value = TypeAdapter(_OPTION_TYPES[name]).validate_python(request.query_params[name])
            except ValidationError as exc:
                raise RequestError(422, _one_line([{**e, "loc": (name,)} for e in exc.errors()])) from None
        if value is not None:
            values[name] = value
    return values


def _settings(options: dict[str, Any]) -> PoseSettings:
    fields_ = {k: v for k, v in options.items() if k in ("model", "max_poses", "crowd", *CONFIDENCE_FIELDS)}
    try:
        return PoseSettings(**fields_)
    except PoseLabError as exc:  # a bad value or an unknown model name: the library's message
        raise RequestError(422, str(exc)) from None


async def _read_all(uploads: Sequence[UploadFile]) -> list[tuple[str, bytes]]:
    return [(upload.filename or f"image-{n}", await upload.read()) for n, upload in enumerate(uploads, start=1)]


# ---------------------------------------------------------------- the app

Model = Annotated[str | None, Form(description="lite, full (default) or heavy")]
MaxPoses = Annotated[int | None, Form(description="people to look for, 1-10 (default 1)")]
Confidence = Annotated[float | None, Form(description="0-1 (default 0.5)")]
Crowd = Annotated[bool | None, Form(description="find everyone: the multi-scale search (several times slower)")]


def create_app(config: ServerConfig | None = None) -> FastAPI:
    """The API as an ASGI app (``uvicorn.run(create_app())``)."""
    config = config or ServerConfig()
    admission = Admission(config.workers, config.max_queue)
    models = SharedModels(config.video_jobs_kept)
    executor = ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="poselab-inference")

    @asynccontextmanager
    async def lifespan(_: FastAPI):  # type: ignore[no-untyped-def]
        # The default landmarker, built now: the first request should not pay for it.
        await asyncio.get_running_loop().run_in_executor(executor, models.model_for, PoseSettings())
        yield
        executor.shutdown(wait=True, cancel_futures=True)
        models.close()

    app = FastAPI(
        title="PoseLab",
        version=__version__,
        summary="Human pose (MediaPipe Pose Landmarker) in photos and video, as JSON.",
        lifespan=lifespan,
    )

    async def in_worker(fn: Callable[..., Any], *args: Any, **kwargs: Any) -> Any:
        return await asyncio.get_running_loop().run_in_executor(executor, lambda: fn(*args, **kwargs))

    @app.exception_handler(RequestError)
    async def _refused(_: Request, exc: RequestError) -> JSONResponse:
        return _error(exc.status, str(exc))

    @app.exception_handler(RequestValidationError)
    async def _invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        return _error(422, _one_line(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        return _error(exc.status_code, str(exc.detail), getattr(exc, "headers", None))

    @app.get(HEALTH_PATH, summary="Is the server up, and how busy is it")
    async def health() -> dict[str, Any]:
        return {
            "status": "ok",
            "pose_core_version": __version__,
            "workers": config.workers,
            "max_queue": config.max_queue,
            "in_progress": admission.admitted,  # requests running or waiting now
        }

    @app.post(
        "/v1/analyze",
        summary="Poses in one or more photos: the JSON of `python -m pose_core analyze`",
        response_class=Response,
        responses={200: {"content": {"application/json": {}}}},
    )
    async def analyze(
        request: Request,
        images: Annotated[list[UploadFile], File(description="one or more photos: JPEG, PNG, WebP, BMP, TIFF")],
        model: Model = None,
        max_poses: MaxPoses = None,
        min_detection_confidence: Confidence = None,
        min_presence_confidence: Confidence = None,
        min_tracking_confidence: Confidence = None,
        crowd: Crowd = None,
    ) -> Response:
        given = _pose_options(
            model, max_poses, (min_detection_confidence, min_presence_confidence, min_tracking_confidence), crowd
        )
        settings = _settings(_options(request, given))
        files = await _read_all(images)
        body = await in_worker(analyze_uploads, files, settings, models, config.limits)
        return Response(body, media_type="application/json")

    @app.post(
        "/v1/video",
        summary="Poses through a video: the JSON of `python -m pose_core video`, or (output=mp4) the annotated MP4",
        response_class=Response,
        responses={200: {"content": {"application/json": {}, "video/mp4": {}}}},
    )
    async def video(
        request: Request,
        video: Annotated[UploadFile, File(description="a video: MP4, MOV, AVI, WebM, MKV")],
        model: Model = None,
        max_poses: MaxPoses = None,
        min_detection_confidence: Confidence = None,
        min_presence_confidence: Confidence = None,
        min_tracking_confidence: Confidence = None,
        crowd: Crowd = None,
        stride: Annotated[int | None, Form(description="analyse every N-th frame (default 1)")] = None,
        smoothing: Annotated[str | None, Form(description="none, one-euro (default) or butterworth")] = None,
        output: Annotated[Literal["json", "mp4"] | None, Form(description="json (default) or mp4")] = None,
    ) -> Response:
        given = _pose_options(
            model, max_poses, (min_detection_confidence, min_presence_confidence, min_tracking_confidence), crowd
        )
        given |= {"stride": stride, "smoothing": smoothing, "output": output}
        options = _options(request, given)
        settings = _settings(options)
        stride_n = options.get("stride", 1)
        if stride_n < 1:
            raise RequestError(422, f"stride must be 1 or more, got {stride_n}")
        method = options.get("smoothing", Smoothing().method)
        if method not in METHODS:
            raise RequestError(422, f"unknown smoothing {method!r}; choose one of: {', '.join(METHODS)}")
        mp4 = options.get("output", "json") == "mp4"
        name = video.filename or "video"
        data = await video.read()
        body = await in_worker(
            analyze_video_upload,
            name,
            data,
            settings,
            stride=stride_n,
            smoothing=Smoothing(method=method),
            mp4=mp4,
            models=models,
            limits=config.limits,
        )
        if mp4:
            disposition = f'attachment; filename="{safe_stem(name, "video")}.poses.mp4"'
            return Response(body, media_type="video/mp4", headers={"Content-Disposition": disposition})
        return Response(body, media_type="application/json")

    # The gate is outermost: refusals (key, size, a full queue) cost no body read and no work.
    app.add_middleware(Gate, config=config, admission=admission)
    return app


def run_server(config: ServerConfig, *, host: str = "127.0.0.1", port: int = 8000) -> None:
    """Serve :func:`create_app` with uvicorn until interrupted."""
    import uvicorn

    uvicorn.run(create_app(config), host=host, port=port, log_level="info", timeout_graceful_shutdown=30)
