"""drivers.markers: the string marker stream, its vocabulary and its CLI."""

from __future__ import annotations

import threading

import pylsl
import pytest

import comodo_live  # noqa: F401
from comodo_live.streams.names import MARKER_TYPE
from drivers.markers import MarkerOutlet, known_marker, main
from tests.drivers.conftest import pull_for


def test_marker_outlet__pushes_strings_with_given_timestamps(source_id, open_inlet):
    with MarkerOutlet(source_id) as outlet:
        inlet = open_inlet(source_id, MARKER_TYPE)
        info = inlet.info(timeout=5.0)
        assert info.channel_format() == pylsl.cf_string and info.nominal_srate() == 0.0
        t = pylsl.local_clock()
        outlet.push("label:start:walking", timestamp=t - 1.0)
        stamp = outlet.push("camera:off")
        values, stamps = pull_for(inlet, 3.0, min_samples=2)
    assert values[:, 0].tolist() == ["label:start:walking", "camera:off"]
    assert stamps[0] == pytest.approx(t - 1.0, abs=1e-9)
    assert stamps[1] == pytest.approx(stamp, abs=1e-9)
    assert not outlet.running
    outlet.stop()  # idempotent


def test_marker_outlet__rejects_empty_text_and_push_before_start(source_id):
    outlet = MarkerOutlet(source_id)
    with pytest.raises(RuntimeError, match="before start"):
        outlet.push("camera:on")
    with outlet, pytest.raises(ValueError, match="non-empty string"):
        outlet.push("")


def test_known_marker__vocabulary():
    for text in (
        "label:start:walking",
        "label:stop",
        "activity:cycling",
        "camera:on",
        "camera:off",
    ):
        assert known_marker(text), text
    for text in ("label:start:", "activity:", "camera:maybe", "hello"):
        assert not known_marker(text), text


def test_markers_cli__send_reaches_a_reader(source_id, open_inlet, capsys):
    argv = [
        "--send",
        "label:start:waving",
        "--send",
        "label:stop",
        "--source-id",
        source_id,
        "--wait-consumers",
        "5",
        "--duration",
        "1.5",
    ]
    thread = threading.Thread(target=main, args=(argv,))
    thread.start()
    try:
        inlet = open_inlet(source_id)
        values, _ = pull_for(inlet, 5.0, min_samples=2)
    finally:
        thread.join(10)
    assert values[:, 0].tolist() == ["label:start:waving", "label:stop"]
    assert "label:stop" in capsys.readouterr().out
