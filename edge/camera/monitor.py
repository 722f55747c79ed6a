"""The camera thread: reads frames at a steady rate into a short ring in RAM, survives faults.

The rule: the emotion classifier runs only at a press (`reading_at`, on the frames around
the press); ambient counting only detects faces; without ambient mode no model runs on a
frame at all. Raw frames live in RAM for at most `history_s + match_within_s` seconds (a
camera that stops delivering has its last ones dropped at the next press or health check)
and all are dropped when the camera stops or fails; nothing of them is written, logged or
sent.

A failing camera (unplugged, open fails, read fails or raises) is released and reopened
with a doubling backoff; the thread never dies of it, and `health()` says what happened,
including a camera that has stopped delivering frames without failing.
"""

import logging
import threading
import time
from collections.abc import Callable

from edge.camera.footfall import FootfallCounter
from edge.camera.frames import FrameRing, ring_capacity
from edge.camera.pipeline import FramePipeline
from edge.camera.reading import CameraHealth, CameraState, EmotionReading
from edge.camera.sources import Frame, FrameSource, SourceError

log = logging.getLogger(__name__)

STOP_WAIT_S = 5.0
REASON_MAX_CHARS = 160
STALL_GRACE_S = 1.0
"""A camera with no frame for `match_within_s` and this long is reported as a fault."""


def describe(exc: BaseException) -> str:
    """A one-line, bounded account of a failure, fit for health() and logs."""
    text = str(exc) if isinstance(exc, SourceError) else f"{type(exc).__name__}: {exc}"
    line = " ".join(text.split())
    return line if len(line) <= REASON_MAX_CHARS else line[: REASON_MAX_CHARS - 1] + "…"


class CameraMonitor:
    """Start once the kiosk is up; `reading_at` and `health` are safe from any thread."""

    def __init__(
        self,
        pipeline: FramePipeline,
        open_source: Callable[[], FrameSource],
        *,
        fps: float = 5.0,
        history_s: float = 1.0,
        match_within_s: float = 2.0,
        retry_min_s: float = 1.0,
        retry_max_s: float = 30.0,
        ambient: bool = False,
        on_active: Callable[[bool], None] | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._pipeline = pipeline
        self._open_source = open_source
        self._period_s = 1 / fps
        self._retry_min_s = retry_min_s
        self._retry_max_s = retry_max_s
        self._on_active = on_active
        self._clock = clock
        keep_s = history_s + match_within_s
        self._ring = FrameRing(keep_s=keep_s, capacity=ring_capacity(fps=fps, keep_s=keep_s))
        self._half_window_s = history_s / 2
        self._match_within_s = match_within_s
        self._stall_s = match_within_s + STALL_GRACE_S
        self._footfall = FootfallCounter() if ambient else None
        self._lock = threading.Lock()
        self._state: CameraState = "off"
        self._reason = ""
        self._frame_seen_at: float | None = None  # the last frame, or when the camera opened
        self._frames = self._presses = self._readings = self._faults = 0
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        with self._lock:
            if self._thread is not None:
                return
            self._stopping.clear()
            self._state, self._reason = "starting", ""
            self._thread = threading.Thread(target=self._run, name="camera", daemon=True)
            self._thread.start()

    def stop(self) -> None:
        """Stop reading and release the camera; the models stay loaded for a new `start`."""
        with self._lock:
            thread, self._thread = self._thread, None
        if thread is None:
            return
        self._stopping.set()
        thread.join(STOP_WAIT_S)
        if thread.is_alive():
            log.warning("camera thread still blocked in a read after %.0f s", STOP_WAIT_S)
        self._ring.clear()
        with self._lock:
            self._state, self._reason = "off", ""
            self._frame_seen_at = None

    def close(self) -> None:
        """Stop, and free the models."""
        self.stop()
        self._pipeline.close()

    @property
    def model_sha256(self) -> str:
        """The sha256 that the loaded emotion model's manifest pins (checked at load)."""
        return self._pipeline.classifier.manifest.sha256

    def reading_at(self, t_monotonic: float) -> EmotionReading | None:
        """A press's reading: the faces in the frames within ±history_s/2 of `t_monotonic`
        (else in the nearest frame within match_within_s) classified now and averaged; None
        if no face was there. The only caller of the classifier."""
        self._ring.forget_older_than(self._clock())
        frames = self._ring.around(
            t_monotonic, half_window_s=self._half_window_s, within_s=self._match_within_s
        )
        reading = self._pipeline.read(frames, t_monotonic) if frames else None
        with self._lock:
            self._presses += 1
            self._readings += reading is not None
        return reading

    def health(self) -> CameraHealth:
        """The state, counters and frames held; a camera with no frame for too long is a
        fault even if it has not failed (a read that hangs)."""
        now = self._clock()
        buffered = self._ring.forget_older_than(now)
        with self._lock:
            state, reason = self._state, self._reason
            seen = self._frame_seen_at
            if state in ("starting", "ok") and seen is not None and now - seen > self._stall_s:
                state, reason = "fault", f"no frame for {now - seen:.0f} s"
            return CameraHealth(
                state=state,
                reason=reason,
                detector=self._pipeline.detector.name,
                frames=self._frames,
                presses=self._presses,
                readings=self._readings,
                faults=self._faults,
                buffered=buffered,
            )

    def footfall(self, since_monotonic: float) -> int | None:
        """Distinct faces that passed since then; None unless ambient mode is on."""
        return None if self._footfall is None else self._footfall.count_since(since_monotonic)

    def passersby_total(self) -> int | None:
        """Distinct faces counted since the monitor was made; None unless ambient mode is on."""
        return None if self._footfall is None else self._footfall.total()

    def faces_per_minute(self) -> int | None:
        return self.footfall(self._clock() - 60)

    def _run(self) -> None:
        retry_s = self._retry_min_s
        while not self._stopping.is_set():
            try:
                source = self._open_source()
            except Exception as exc:  # any failure is a fault; the thread lives on
                self._fault(f"cannot open the camera: {describe(exc)}", retry_s)
            else:
                if self._watch(source, retry_s):
                    retry_s = self._retry_min_s
            if self._stopping.wait(retry_s):
                break
            retry_s = min(retry_s * 2, self._retry_max_s)

    def _watch(self, source: FrameSource, retry_s: float) -> bool:
        """Read until stopped or failed; True if a frame got through before it failed."""
        self._set_active(True)
        with self._lock:
            self._frame_seen_at = self._clock()
        any_frame = False
        try:
            while not self._stopping.is_set():
                started = time.monotonic()
                frame = source.read()
                if frame is None:
                    raise SourceError("the camera gave no frame (unplugged?)")
                self._process(frame)
                any_frame = True
                self._stopping.wait(max(0.0, self._period_s - (time.monotonic() - started)))
        except Exception as exc:
            self._fault(describe(exc), self._retry_min_s if any_frame else retry_s)
        finally:
            self._release(source)
        return any_frame

    def _process(self, frame: Frame) -> None:
        """Into the ring; in ambient mode, the faces counted (the detector only)."""
        at = self._clock()
        self._ring.add(frame, at)
        if self._footfall is not None:
            self._footfall.update(self._pipeline.faces(frame), at)
        with self._lock:
            if self._state != "ok" and not self._stopping.is_set():
                log.info("camera ok (%s detector)", self._pipeline.detector.name)
                self._state, self._reason = "ok", ""
            self._frames += 1
            self._frame_seen_at = at

    def _fault(self, reason: str, retry_s: float) -> None:
        log.warning("camera fault: %s; retrying in %.3g s", reason, retry_s)
        with self._lock:
            self._state, self._reason = "fault", reason
            self._faults += 1

    def _release(self, source: FrameSource) -> None:
        self._ring.clear()
        with self._lock:
            self._frame_seen_at = None
        try:
            source.close()
        except Exception as exc:
            log.warning("camera did not close cleanly: %s", describe(exc))
        self._set_active(False)

    def _set_active(self, active: bool) -> None:
        if self._on_active is None:
            return
        try:
            self._on_active(active)
        except Exception:
            log.exception("on_active(%s) callback failed", active)
