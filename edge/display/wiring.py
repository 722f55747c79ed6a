"""The page joined to the kiosk: presses and follow-ups shown, the page's presses and
answers taken. Nothing here may stop a press: the page's hooks log what fails."""

import logging
import time
from collections.abc import Callable, Sequence

from edge.config import DisplayConfig
from edge.display.server import CameraNotice, DisplayHooks, KioskDisplay, Prompt
from edge.followups import FollowUpError, FollowUps
from edge.recorder import PressRecorder
from protocol.messages import Button, KioskNotice, PressEvent
from protocol.surveys import Survey

log = logging.getLogger(__name__)


class DisplayLink:
    """Tells the page of each press (with its follow-up, if one opened) and hands the page's
    presses to the recorder and its answers to the follow-ups; `notices` says what the hub
    says is being handled here (the remote config's, re-read at each `survey_changed`);
    `camera` gives the camera notice while the camera is on (re-read at `camera_changed`)."""

    def __init__(
        self,
        config: DisplayConfig,
        *,
        recorder: PressRecorder,
        followups: FollowUps,
        notices: Callable[[], Sequence[KioskNotice]] = lambda: (),
        camera: Callable[[], CameraNotice | None] = lambda: None,
    ) -> None:
        self._config = config
        self._recorder = recorder
        self._followups = followups
        self.display = KioskDisplay(
            DisplayHooks(
                survey=self._survey,
                press=self._press,
                answer=self._answer,
                languages=lambda: list(self._config.languages),
                notices=notices,
                camera=camera,
            ),
            port=config.port,
        )
        recorder.add_listener(self._pressed)  # after the follow-ups' listener: sees its window

    def start(self) -> None:
        try:
            self.display.start()
        except OSError as exc:  # the port is taken: the buttons go on without the page
            log.error("kiosk page not served: %s; the buttons work without it", exc)

    def stop(self) -> None:
        self.display.stop()

    @property
    def serving(self) -> bool:
        """The page is served (a display can show the camera notice)."""
        return self.display.serving

    def survey_changed(self) -> None:
        self.display.changed()

    def camera_changed(self) -> None:
        self.display.changed()

    def _survey(self) -> Survey | None:
        return self._followups.survey

    def _pressed(self, event: PressEvent) -> None:
        window = self._followups.current()
        opened = window is not None and window.event_id == event.event_id
        self.display.prompt(
            Prompt(
                event.event_id,
                event.button,
                window.question if window is not None and opened else None,
                window.survey.answer_s if window is not None and opened else 0.0,
            )
        )

    def _press(self, button: Button) -> None:
        self._recorder.submit(button, time.monotonic())

    def _answer(self, event_id: str, option: str | None, language: str | None) -> bool:
        try:
            self._followups.answer(event_id, option, language)
        except FollowUpError as exc:
            log.info("the page's answer to %s not taken: %s", event_id, exc)
            return False
        return True
