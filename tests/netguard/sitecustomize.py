"""Network guard, loaded by every Python process started with this folder on PYTHONPATH.

Any attempt to make an internet socket (AF_INET, AF_INET6) or to resolve a host name is
refused with OSError, as on a machine without a network, and written to $NETGUARD_LOG,
which the test reads: a library that swallows the error still fails the test. Local
sockets (AF_UNIX: PulseAudio, X11, D-Bus) are allowed.
"""

import os
import socket
import traceback

_BLOCKED = {socket.AF_INET, socket.AF_INET6}
_LOG = os.environ.get("NETGUARD_LOG")


def _refuse(what: str):
    if _LOG:
        with open(_LOG, "a", encoding="utf-8") as fh:
            fh.write(f"pid {os.getpid()}: {what}\n{''.join(traceback.format_stack(limit=12))}\n")
    raise OSError(f"network use blocked by the test guard: {what}")


class _GuardedSocket(socket.socket):
    def __init__(self, family=-1, type=-1, proto=-1, fileno=None):
        if fileno is None and (socket.AF_INET if family == -1 else family) in _BLOCKED:
            _refuse(f"socket(family={family})")
        super().__init__(family, type, proto, fileno)


def _blocked(name):
    def refuse(*args, **kwargs):
        _refuse(f"{name}{args[:2]}")
    return refuse


socket.socket = _GuardedSocket
for _name in ("create_connection", "getaddrinfo", "gethostbyname", "gethostbyname_ex", "gethostbyaddr",
              "getnameinfo"):
    setattr(socket, _name, _blocked(_name))
