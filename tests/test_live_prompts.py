"""Prompts on a live call, by an outside clock: a talk-over played into the virtual devices
is coached while both are still talking (benchmarks/live_prompts.py measures the rest)."""

from __future__ import annotations

import time

import pytest

from benchmarks.live_latency import play
from benchmarks.live_prompts import TALK_OVER, render
from tests import callgen as cg
from tests.listen_harness import Listen
from tests.sound_servers import TEST_HEADSET, TEST_MIC_FEED

pytestmark = [pytest.mark.pulse, pytest.mark.slow]
A, C = cg.AGENT, cg.CUSTOMER


def test_talk_over_is_coached_while_the_overlap_goes_on(sound_server, tmp_path):
    call = render(TALK_OVER, tmp_path)
    agent, customer = call.truth.turns[TALK_OVER.turn], call.truth.turns[TALK_OVER.turn - 1]
    listen = Listen("--mic", "Test Microphone", "--call-output", "Test Headset", "--no-store")
    try:
        listen.ready()
        played_at = time.monotonic()
        # 20 ms of buffering, like a softphone: then played is heard (paplay's default is ~2 s).
        sound_server.players += [play(sound_server, call.wavs[A], TEST_MIC_FEED),
                                 play(sound_server, call.wavs[C], TEST_HEADSET)]
        listen.wait_for(lambda lines: any(line.event.get("kind") == "let_them_finish" for line in lines),
                        call.truth.duration + 10)
    finally:
        listen.stop()
    prompts = [line for line in listen.of("prompt") if line.event["kind"] == "let_them_finish"]
    assert prompts, f"no talk-over prompt; prompts: {[p.event for p in listen.of('prompt')]}\n{listen.stderr}"
    began, ended = played_at + agent.start, played_at + min(agent.end, customer.end)
    shown = prompts[0].at
    assert began < shown < ended, \
        f"shown {shown - began:.2f} s after the agent cut in; both talked for {ended - began:.2f} s"
