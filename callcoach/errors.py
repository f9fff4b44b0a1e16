"""The one exception type whose message is meant for the user, as a single line."""


class CallCoachError(Exception):
    """A problem the user can fix (bad file, unknown device, missing model).

    The message is shown as-is on one line, never as a traceback.
    """
