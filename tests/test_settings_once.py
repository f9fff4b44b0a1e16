"""Settings are read once per process and passed down; the widget's preloaded model is the
one a call uses (issue 13)."""

from __future__ import annotations

import logging
import os

import numpy as np
import pytest
import soundfile as sf

from callcoach import cli
from callcoach.analyze import analyze_call
from callcoach.engine.transcriber import shared_transcriber
from callcoach.pipeline import CallPipeline
from callcoach.settings import Key, Settings


@pytest.fixture
def quiet_call(tmp_path):
    path = tmp_path / "quiet.wav"
    rng = np.random.default_rng(1)
    sf.write(path, (rng.standard_normal((16000, 2)) * 1e-3).astype(np.float32), 16000)
    return path


def _count_reads(monkeypatch) -> list[Settings]:
    built: list[Settings] = []
    original = Settings.__init__

    def counted(self, *args, **kwargs):
        original(self, *args, **kwargs)
        built.append(self)

    monkeypatch.setattr(Settings, "__init__", counted)
    return built


def test_analyze_reads_the_settings_once_and_tells_a_bad_policy_once(quiet_call, tmp_path, monkeypatch,
                                                                      caplog, capsys):
    with open(os.environ["CALLCOACH_POLICY_FILE"], "w") as policy:
        policy.write("[settings\n")
    built = _count_reads(monkeypatch)
    monkeypatch.setattr("callcoach.logs.setup", lambda: None)  # no handler on pytest's captured stderr
    with caplog.at_level(logging.WARNING, logger="callcoach.events"):
        status = cli.main(["analyze", str(quiet_call), "--json", str(tmp_path / "out.json")])
    assert status == 0
    assert len(built) == 1, "one Settings for the whole command"
    logged = [r for r in caplog.records if "bad policy file" in r.getMessage()]
    assert len(logged) == 1
    assert capsys.readouterr().err.count("bad policy file") == 1


def test_analyze_takes_redact_and_the_pace_band_from_its_caller(quiet_call, monkeypatch):
    settings = Settings()
    settings.set(Key.REDACT, False)
    settings.set(Key.PACE_LOW, 100.0)

    def no_reading(*_args, **_kwargs):
        raise AssertionError("analyze read the settings itself")

    monkeypatch.setattr(Settings, "__init__", no_reading)
    summary = analyze_call(call=str(quiet_call), settings=settings, store=False, progress=False)
    assert summary["coach"]["pace_band"][0] == 100.0


def test_the_preloaded_model_is_the_one_a_call_uses(monkeypatch):
    from callcoach.gui import app

    monkeypatch.setattr("gc.freeze", lambda: None)  # the test process's objects stay collectable
    settings = Settings()
    model = app.preload_model(settings)
    assert model is not None
    loads = shared_transcriber.cache_info().misses
    pipeline = CallPipeline.from_settings(settings, source_name="test")
    pipeline.load()
    assert shared_transcriber.cache_info().misses == loads, "the call loaded a model of its own"
    assert pipeline.engine._transcriber is model


def test_every_key_has_one_option():
    from callcoach.settings import OPTIONS

    assert list(OPTIONS) == list(Key) and all(key is option.key for key, option in OPTIONS.items())
