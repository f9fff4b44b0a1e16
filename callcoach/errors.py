"""The one exception type whose message is meant for the user, as a single line."""


class CallCoachError(Exception):
    """A problem the user can fix (bad file, unknown device, missing model).

    The message is shown as-is on one line, never as a traceback.
    """


def one_line(exc: BaseException, limit: int | None = 200) -> str:
    """An exception as one short line for a message or log: whitespace squeezed, cut at
    `limit` characters, the type's name when it says nothing."""
    return " ".join(str(exc).split())[:limit] or type(exc).__name__
