"""AppConfig: defaults, TOML + CLI overrides, validation messages."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from comodo_live.config import (
    DEFAULT_CONFIG_PATH,
    AppConfig,
    ConfigError,
    dump_toml,
    from_dict,
    load_config,
    parse_override,
)


def test_config__shipped_toml_equals_defaults() -> None:
    assert load_config(DEFAULT_CONFIG_PATH) == AppConfig()
    assert load_config() == AppConfig()


def test_config__toml_file_then_overrides(tmp_path: Path) -> None:
    path = tmp_path / "my.toml"
    path.write_text('[window]\nhop_s = 0.25\n[demo]\nactivities = ["walking", "sitting"]\n')
    config = load_config(path, ["window.hop_s=0.3", "session.name=alice", "trainer.augment=false"])
    assert config.window.hop_s == 0.3  # the CLI wins over the file
    assert config.demo.activities == ("walking", "sitting")
    assert config.session.name == "alice"
    assert config.trainer.augment is False
    assert config.window.window_s == AppConfig().window.window_s


def test_config__dump_round_trip() -> None:
    config = load_config(
        overrides={"source.mode": "demo", "teacher.size_px": 96, "camera.source": "walk.mp4"}
    )
    assert from_dict(tomllib.loads(dump_toml(config))) == config


def test_config__replace_is_validated() -> None:
    config = AppConfig().replace({"window.hop_s": 1.0})
    assert config.window.hop_s == 1.0
    with pytest.raises(ConfigError, match=r"window\.hop_s"):
        config.replace({"window.hop_s": 5.0})


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("trainer.lr=-1", r"trainer.lr = -1.0 is out of range; valid range: \[1e-07, 1.0\]"),
        ("window.hop_s=3", r"window.hop_s = 3.0 .*window.window_s = 2.0"),
        ("source.mode=webcam", r"source.mode = 'webcam' is invalid; valid values"),
        ("trainer.batch_size=2.5", r"trainer.batch_size = 2.5 is invalid; expected an integer"),
        ("trainer.augment=3", r"trainer.augment = 3 is invalid; valid values: true or false"),
        ("window.nope=1", r"unknown config key window.nope; valid keys in \[window\]"),
        ("nope.key=1", r"unknown config section 'nope'"),
        ("source.mode=replay", r"source.replay_path = '' is invalid"),
        ("teacher.frames=3", r"teacher.frames = 3 must be a multiple of teacher.segments = 2"),
        (
            "predictor.confidence_threshold=1.5",
            r"predictor.confidence_threshold = 1.5 is out of range",
        ),
    ],
)
def test_config__invalid_values_name_key_value_and_range(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message):
        load_config(overrides=[override])


def test_config__parse_override() -> None:
    assert parse_override("a.b=2") == ("a.b", 2)
    assert parse_override("a.b = 0.5") == ("a.b", 0.5)
    assert parse_override("a.b=true") == ("a.b", True)
    assert parse_override("a.b=walk.mp4") == ("a.b", "walk.mp4")
    assert parse_override('a.b=["x", "y"]') == ("a.b", ["x", "y"])
    with pytest.raises(ConfigError, match=r"section\.key=value"):
        parse_override("novalue")
    with pytest.raises(ConfigError, match=r"section\.key"):
        parse_override("a.b.c=1")


def test_config__missing_or_broken_file(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_config(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("[window\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_config(broken)


def test_config__legacy_hold_out_labelled_maps_to_hold_out_every() -> None:
    """Session folders written before ``trainer.hold_out_every`` still resume."""
    assert from_dict({"trainer": {"hold_out_labelled": True}}).trainer.hold_out_every == 1
    assert from_dict({"trainer": {"hold_out_labelled": False}}).trainer.hold_out_every == 0
    assert from_dict({}).trainer.hold_out_every == 2
