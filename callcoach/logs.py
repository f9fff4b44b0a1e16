"""The app's log file: events and errors for IT, never what was said.

One rotating file (1 MB x 5) in the per-user log folder, readable by the user only. What
goes in is chosen where it is logged: call start and end with durations and counts, model
loads, devices opened, the kind of each prompt, problems. Transcript text and prompt
wording are never passed to the logger; `RedactFilter` runs every line through the PII
redactor as well, in case an error message quotes something it should not.
"""

from __future__ import annotations

import logging
import os
import sys
import time
from collections import Counter
from logging.handlers import RotatingFileHandler
from pathlib import Path

from callcoach.coach.events import CallSummary, Prompt
from callcoach.engine.events import CallEnded, ModelReady, Notice, Utterance
from callcoach.redact import redact

LOG_NAME = "callcoach.log"
MAX_BYTES = 1_000_000
BACKUPS = 5
FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"

# Events for the file only: the CLI and the widget tell the user in their own words.
EVENTS = "callcoach.events"
log = logging.getLogger(EVENTS)
_NOTICE_LEVELS = {"info": logging.INFO, "warning": logging.WARNING, "error": logging.ERROR}
_started = time.monotonic()  # import time: the command's start, give or take the interpreter's
_installed: list[logging.Handler] = []  # by setup(), replaced when it runs again in one process


def log_dir() -> Path:
    """The per-user log folder; CALLCOACH_LOG_DIR moves it (tests, IT)."""
    folder = os.environ.get("CALLCOACH_LOG_DIR")
    if folder:
        return Path(folder)
    from platformdirs import user_log_dir

    # e.g. ~/.local/state/CallCoach/log, %LOCALAPPDATA%\CallCoach\Logs, ~/Library/Logs/CallCoach
    return Path(user_log_dir("CallCoach", appauthor=False))


def log_path() -> Path:
    return log_dir() / LOG_NAME


def since_start() -> float:
    """Seconds since the command started (from the import of this module)."""
    return time.monotonic() - _started


class RedactFilter(logging.Filter):
    """Second line of defence: the message and any traceback go through `redact()`."""

    def filter(self, record: logging.LogRecord) -> bool:
        record.msg = redact(record.getMessage()).text
        record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = redact(record.exc_text).text
        return True


class _PrivateRotatingFileHandler(RotatingFileHandler):
    """Every file it opens, the first one and each after a rollover, is 0600."""

    def _open(self):
        fd = os.open(self.baseFilename, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
        os.chmod(self.baseFilename, 0o600)  # a file left by an older version may be wider
        return os.fdopen(fd, "a", encoding=self.encoding or "utf-8", errors=self.errors)


def file_handler(path: Path | None = None) -> logging.Handler:
    """The rotating, private, redacting file handler (its folder made 0700)."""
    path = path or log_path()
    _private_folder(path.parent)
    handler = _PrivateRotatingFileHandler(path, maxBytes=MAX_BYTES, backupCount=BACKUPS, encoding="utf-8",
                                          delay=True)  # no file until there is something to say
    handler.setFormatter(logging.Formatter(FORMAT))
    handler.addFilter(RedactFilter())
    handler.setLevel(logging.INFO)
    return handler


def _private_folder(folder: Path) -> None:
    """0700 when we create it, or when it is our own default folder; a folder IT pointed
    CALLCOACH_LOG_DIR at keeps its mode (the log file in it is 0600 all the same)."""
    if not folder.is_dir():
        folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        os.chmod(folder, 0o700)  # mkdir's mode is cut by the umask
    elif not os.environ.get("CALLCOACH_LOG_DIR"):
        os.chmod(folder, 0o700)


def setup() -> Path | None:
    """Logging for the `callcoach` command: our events (INFO) and everyone's warnings to
    the file; warnings to stderr (CALLCOACH_LOG=INFO/DEBUG shows more). Returns the file,
    or None when it cannot be written (said on stderr; the app runs on)."""
    root = logging.getLogger()
    for old in _installed:
        root.removeHandler(old)
        old.close()
    _installed.clear()
    stderr_level = logging.getLevelName(os.environ.get("CALLCOACH_LOG", "WARNING").upper())
    if not isinstance(stderr_level, int):
        stderr_level = logging.WARNING
    console = logging.StreamHandler(sys.stderr)
    console.setLevel(stderr_level)
    console.addFilter(lambda record: not record.name.startswith(EVENTS))
    console.addFilter(RedactFilter())
    root.addHandler(console)
    _installed.append(console)
    root.setLevel(min(stderr_level, logging.WARNING))  # other libraries: warnings only
    logging.getLogger("callcoach").setLevel(min(stderr_level, logging.INFO))
    try:
        handler = file_handler()
    except OSError as exc:
        root.warning("callcoach: no log file in %s (%s)", log_dir(), " ".join(str(exc).split()))
        return None
    root.addHandler(handler)
    _installed.append(handler)
    return Path(handler.baseFilename)


class CallLog:
    """A pipeline listener that logs one call: start, end, counts and prompt kinds."""

    def __init__(self):
        self.utterances: Counter[str] = Counter()
        self.prompts = 0
        self.duration = 0.0

    def started(self, source: object) -> None:
        log.info("call started (%s)", type(source).__name__)

    def __call__(self, event: object) -> None:
        handler = self._HANDLERS.get(type(event))
        if handler:
            handler(self, event)

    def _utterance(self, event: Utterance) -> None:
        self.utterances[event.role] += 1

    def _prompt(self, event: Prompt) -> None:  # the kind only: the wording may quote the caller
        self.prompts += 1
        log.info("prompt raised: %s (%s) at %.1f s", event.kind, event.severity, event.t)

    def _model_ready(self, event: ModelReady) -> None:
        log.info("engine ready in %.2f s", event.load_s)

    def _notice(self, event: Notice) -> None:
        log.log(_NOTICE_LEVELS.get(event.level, logging.WARNING), "notice: %s", event.message)

    def _call_ended(self, event: CallEnded) -> None:
        self.duration = event.duration

    def _call_summary(self, event: CallSummary) -> None:  # the coach's last word, after the follow-up prompt
        log.info("call ended: %.1f s, %d agent and %d customer utterances, %d prompts", self.duration,
                 self.utterances["agent"], self.utterances["customer"], self.prompts)

    _HANDLERS = {Utterance: _utterance, Prompt: _prompt, ModelReady: _model_ready, Notice: _notice,
                 CallEnded: _call_ended, CallSummary: _call_summary}
