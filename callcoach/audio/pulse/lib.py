"""ctypes bindings for the few parts of libpulse CallCoach uses (PulseAudio, and PipeWire
through pipewire-pulse, which speaks the same protocol).

Why not a wrapper library: recording a sink's monitor has to be created with
PA_STREAM_DONT_MOVE (otherwise the server silently moves the stream to another source when
the sink goes away, and the customer's channel becomes the agent's microphone), with a small
fragment size (latency), without autospawning a server, and with a timeout when none
answers. `soundcard` and `pulsectl` expose none of those. Loaded on first use only: importing
this module never touches the library.

Struct layouts follow <pulse/introspect.h> and <pulse/def.h>; only the leading fields we read
are declared, which is safe because libpulse passes pointers to its own structs.
"""

from __future__ import annotations

import ctypes
import ctypes.util
from ctypes import (
    CFUNCTYPE,
    POINTER,
    Structure,
    c_char_p,
    c_int,
    c_int64,
    c_size_t,
    c_uint8,
    c_uint32,
    c_uint64,
    c_void_p,
)
from functools import cache

CHANNELS_MAX = 32
INVALID_INDEX = 0xFFFFFFFF

SAMPLE_FLOAT32LE = 5

CONTEXT_NOAUTOSPAWN = 0x0001
CONTEXT_READY, CONTEXT_FAILED, CONTEXT_TERMINATED = 4, 5, 6

STREAM_READY, STREAM_FAILED, STREAM_TERMINATED = 2, 3, 4
STREAM_DONT_MOVE = 0x0200
STREAM_ADJUST_LATENCY = 0x2000



class SampleSpec(Structure):
    _fields_ = [("format", c_int), ("rate", c_uint32), ("channels", c_uint8)]


class ChannelMap(Structure):
    _fields_ = [("channels", c_uint8), ("map", c_int * CHANNELS_MAX)]


class CVolume(Structure):
    _fields_ = [("channels", c_uint8), ("values", c_uint32 * CHANNELS_MAX)]


class BufferAttr(Structure):
    _fields_ = [("maxlength", c_uint32), ("tlength", c_uint32), ("prebuf", c_uint32), ("minreq", c_uint32),
                ("fragsize", c_uint32)]


class ServerInfo(Structure):
    _fields_ = [("user_name", c_char_p), ("host_name", c_char_p), ("server_version", c_char_p),
                ("server_name", c_char_p), ("sample_spec", SampleSpec), ("default_sink_name", c_char_p),
                ("default_source_name", c_char_p)]


# pa_sink_info and pa_source_info share this head (monitor_* differ in meaning only).
_DEVICE_HEAD = [("name", c_char_p), ("index", c_uint32), ("description", c_char_p), ("sample_spec", SampleSpec),
                ("channel_map", ChannelMap), ("owner_module", c_uint32), ("volume", CVolume), ("mute", c_int)]
_DEVICE_TAIL = [("latency", c_uint64), ("driver", c_char_p), ("flags", c_int), ("proplist", c_void_p),
                ("configured_latency", c_uint64), ("base_volume", c_uint32), ("state", c_int),
                ("n_volume_steps", c_uint32), ("card", c_uint32)]


class SinkInfo(Structure):
    _fields_ = _DEVICE_HEAD + [("monitor_source", c_uint32), ("monitor_source_name", c_char_p)] + _DEVICE_TAIL


class SourceInfo(Structure):
    _fields_ = _DEVICE_HEAD + [("monitor_of_sink", c_uint32), ("monitor_of_sink_name", c_char_p)] + _DEVICE_TAIL


ContextNotify = CFUNCTYPE(None, c_void_p, c_void_p)
ServerInfoCallback = CFUNCTYPE(None, c_void_p, POINTER(ServerInfo), c_void_p)
SinkInfoCallback = CFUNCTYPE(None, c_void_p, POINTER(SinkInfo), c_int, c_void_p)
SourceInfoCallback = CFUNCTYPE(None, c_void_p, POINTER(SourceInfo), c_int, c_void_p)
StreamNotify = CFUNCTYPE(None, c_void_p, c_void_p)
StreamRequest = CFUNCTYPE(None, c_void_p, c_size_t, c_void_p)
StreamSuccess = CFUNCTYPE(None, c_void_p, c_int, c_void_p)

_PROTOTYPES = {
    "pa_threaded_mainloop_new": (c_void_p, []),
    "pa_threaded_mainloop_start": (c_int, [c_void_p]),
    "pa_threaded_mainloop_stop": (None, [c_void_p]),
    "pa_threaded_mainloop_free": (None, [c_void_p]),
    "pa_threaded_mainloop_lock": (None, [c_void_p]),
    "pa_threaded_mainloop_unlock": (None, [c_void_p]),
    "pa_threaded_mainloop_get_api": (c_void_p, [c_void_p]),
    "pa_context_new": (c_void_p, [c_void_p, c_char_p]),
    "pa_context_unref": (None, [c_void_p]),
    "pa_context_connect": (c_int, [c_void_p, c_char_p, c_int, c_void_p]),
    "pa_context_disconnect": (None, [c_void_p]),
    "pa_context_get_state": (c_int, [c_void_p]),
    "pa_context_errno": (c_int, [c_void_p]),
    "pa_context_set_state_callback": (None, [c_void_p, ContextNotify, c_void_p]),
    "pa_context_get_server_info": (c_void_p, [c_void_p, ServerInfoCallback, c_void_p]),
    "pa_context_get_sink_info_list": (c_void_p, [c_void_p, SinkInfoCallback, c_void_p]),
    "pa_context_get_source_info_list": (c_void_p, [c_void_p, SourceInfoCallback, c_void_p]),
    "pa_operation_unref": (None, [c_void_p]),
    "pa_strerror": (c_char_p, [c_int]),
    "pa_stream_new": (c_void_p, [c_void_p, c_char_p, POINTER(SampleSpec), c_void_p]),
    "pa_stream_unref": (None, [c_void_p]),
    "pa_stream_connect_record": (c_int, [c_void_p, c_char_p, POINTER(BufferAttr), c_int]),
    "pa_stream_disconnect": (c_int, [c_void_p]),
    "pa_stream_get_state": (c_int, [c_void_p]),
    "pa_stream_set_state_callback": (None, [c_void_p, StreamNotify, c_void_p]),
    "pa_stream_set_read_callback": (None, [c_void_p, StreamRequest, c_void_p]),
    "pa_stream_peek": (c_int, [c_void_p, POINTER(c_void_p), POINTER(c_size_t)]),
    "pa_stream_drop": (c_int, [c_void_p]),
    "pa_stream_connect_playback": (c_int, [c_void_p, c_char_p, c_void_p, c_int, c_void_p, c_void_p]),
    "pa_stream_set_write_callback": (None, [c_void_p, StreamRequest, c_void_p]),
    "pa_stream_writable_size": (c_size_t, [c_void_p]),
    "pa_stream_write": (c_int, [c_void_p, c_void_p, c_size_t, c_void_p, c_int64, c_int]),
    "pa_stream_drain": (c_void_p, [c_void_p, StreamSuccess, c_void_p]),
}


class LibraryMissing(OSError):
    """libpulse is not installed (a Windows or macOS desktop, or a bare Linux one)."""


@cache
def library() -> ctypes.CDLL:
    """libpulse with the prototypes above declared; LibraryMissing when absent."""
    name = ctypes.util.find_library("pulse") or "libpulse.so.0"
    try:
        lib = ctypes.CDLL(name)
    except OSError as exc:
        raise LibraryMissing(f"libpulse is not installed ({exc})") from None
    for function, (restype, argtypes) in _PROTOTYPES.items():
        f = getattr(lib, function)
        f.restype, f.argtypes = restype, argtypes
    return lib


def text(value: bytes | None) -> str:
    return value.decode("utf-8", "replace") if value else ""
