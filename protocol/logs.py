"""One log setup for the hub and the kiosk: every line at the margin is a record we wrote.

Log messages quote what others sent: topics, client and device ids, user names, payload
details, a webhook's error. Written raw, a newline in them forges a log line and an ANSI
escape repaints a terminal. The formatter escapes every control character of a record's line
(protocol.text.for_log), and indents a traceback or stack beneath it, line by line, so that
nothing a record quotes can begin a line of its own. Libraries' loggers (amqtt's among them)
propagate to the root, so their records pass through it too.
"""

import logging
from collections.abc import Iterable
from typing import TextIO

from protocol.text import for_log

FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
INDENT = "  "


class OneLineFormatter(logging.Formatter):
    """A record as one line, control characters escaped; its traceback indented below it."""

    def format(self, record: logging.LogRecord) -> str:
        record.message = record.getMessage()
        if self.usesTime():
            record.asctime = self.formatTime(record, self.datefmt)
        lines = [for_log(self.formatMessage(record))]
        if record.exc_info:
            lines.append(_indented(self.formatException(record.exc_info)))
        elif record.exc_text:
            lines.append(_indented(record.exc_text))
        if record.stack_info:
            lines.append(_indented(self.formatStack(record.stack_info)))
        return "\n".join(lines)


def _indented(text: str) -> str:
    return "\n".join(INDENT + for_log(line) for line in text.rstrip("\n").split("\n"))


def one_line_handler(stream: TextIO | None = None) -> logging.Handler:
    """A handler writing to `stream` (standard error by default) through the formatter."""
    handler = logging.StreamHandler(stream)
    handler.setFormatter(OneLineFormatter(FORMAT))
    return handler


def configure_logging(
    level: str, *, quiet: Iterable[str] = (), stream: TextIO | None = None
) -> logging.Handler:
    """The process's log handler, at `level`; the `quiet` loggers say warnings only. Like
    logging.basicConfig, it leaves a root logger that has handlers already (a test's) alone."""
    handler = one_line_handler(stream)
    logging.basicConfig(level=level.upper(), handlers=[handler])
    for name in quiet:
        logging.getLogger(name).setLevel(logging.WARNING)
    return handler
