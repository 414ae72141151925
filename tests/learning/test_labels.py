"""LabelStore: activities added/renamed/deleted at any time; labelled windows bounded."""

from __future__ import annotations

import numpy as np
import pytest

from comodo_live.learning.labels import LabelStore


def _window(value: float = 0.0) -> np.ndarray:
    return np.full((6, 20), value, np.float32)


def test_label_store__add_rename_delete() -> None:
    store = LabelStore(max_per_activity=5)
    store.add_activity("walking")
    store.add_activity(" sitting ")
    store.add_activity("walking")  # duplicate: no-op
    assert store.activities == ("walking", "sitting")
    store.add_window("walking", _window(1.0))
    store.rename_activity("walking", "strolling")
    assert store.activities == ("strolling", "sitting")
    assert store.counts() == {"strolling": 1, "sitting": 0}
    store.delete_activity("strolling")
    assert store.activities == ("sitting",)
    assert store.counts() == {"sitting": 0}
    with pytest.raises(KeyError, match="no activity"):
        store.delete_activity("strolling")
    with pytest.raises(ValueError, match="already exists"):
        store.add_activity("a")
        store.rename_activity("a", "sitting")


@pytest.mark.parametrize("bad", ["", "   ", "unknown", "x" * 65])
def test_label_store__rejects_bad_names(bad: str) -> None:
    with pytest.raises(ValueError, match="activity name"):
        LabelStore().add_activity(bad)


def test_label_store__windows_are_bounded_per_activity() -> None:
    store = LabelStore(max_per_activity=3, activities=("a", "b"))
    for i in range(10):
        store.add_window("a", _window(i))
    store.add_window("b", _window(-1))
    windows, names = store.windows()
    assert windows.shape == (4, 6, 20)
    assert names == ["a", "a", "a", "b"]
    assert [w[0, 0] for w in windows[:3]] == [7, 8, 9]  # the newest kept


def test_label_store__non_finite_window_is_refused() -> None:
    store = LabelStore(activities=("a",))
    bad = _window()
    bad[2, 5] = np.nan
    assert not store.add_window("a", bad)
    assert store.counts() == {"a": 0}


def test_label_store__intervals_label_windows_inside_them() -> None:
    store = LabelStore()
    store.start_label("walking", 10.0)  # added on the fly
    assert store.labelling == "walking"
    assert store.label_for(10.5, 12.5) == "walking"
    assert store.label_for(9.5, 11.5) is None  # starts before the label
    store.start_label("sitting", 20.0)  # closes walking at 20
    assert store.label_for(18.0, 20.0) == "walking"
    assert store.label_for(19.0, 21.0) is None  # spans the switch
    store.stop_label(30.0)
    assert store.labelling is None
    assert store.label_for(25.0, 27.0) == "sitting"
    assert store.label_for(29.0, 31.0) is None
    store.rename_activity("sitting", "resting")
    assert store.label_for(25.0, 27.0) == "resting"
    store.delete_activity("resting")
    assert store.label_for(25.0, 27.0) is None


def test_label_store__version_changes_on_every_edit() -> None:
    store = LabelStore()
    versions = [store.version]
    store.add_activity("a")
    versions.append(store.version)
    store.add_window("a", _window())
    versions.append(store.version)
    store.rename_activity("a", "b")
    versions.append(store.version)
    store.delete_activity("b")
    versions.append(store.version)
    assert versions == sorted(set(versions))


def test_label_store__state_round_trip_and_teacher_anchors() -> None:
    store = LabelStore(activities=("a", "b"))
    store.add_window("a", _window(1))
    store.add_teacher_embedding("a", np.array([3.0, 4.0], np.float32))
    store.add_teacher_embedding("b", np.array([0.0, -2.0], np.float32))
    other = LabelStore()
    other.load_state(store.state())
    assert other.activities == ("a", "b")
    assert other.counts() == {"a": 1, "b": 0}
    names, anchors = other.teacher_anchors()
    assert names == ("a", "b")
    np.testing.assert_allclose(anchors, [[0.6, 0.8], [0.0, -1.0]], atol=1e-6)


def test_check_activity_name__printable_bounded_and_escaped_in_errors() -> None:
    from comodo_live.learning.labels import MAX_NAME_CHARS, check_activity_name, shown

    assert check_activity_name("  café au lait <b> ") == "café au lait <b>"
    for bad in ("red\x1b[31m", "two\nlines", "tab\there", "rtl\u202eoverride", "bell\x07"):
        with pytest.raises(ValueError, match="printable text") as caught:
            check_activity_name(bad)
        assert all(c.isprintable() for c in str(caught.value))
    with pytest.raises(ValueError, match=f"<= {MAX_NAME_CHARS} characters") as caught:
        check_activity_name("x" * 2_000_000)
    assert len(str(caught.value)) < 200
    assert shown("a\x1b[2Jb\n") == "'a\\x1b[2Jb\\n'"
    assert shown("y" * 100, limit=5) == "'yyyyy…'"


def test_label_store__at_most_max_activities() -> None:
    from comodo_live.learning.labels import MAX_ACTIVITIES

    store = LabelStore()
    for i in range(MAX_ACTIVITIES):
        store.add_activity(f"a{i}")
    store.add_activity("a0")  # an existing one is still fine
    with pytest.raises(ValueError, match=f"at most {MAX_ACTIVITIES} activities"):
        store.start_label("one too many", 1.0)
    assert len(store.activities) == MAX_ACTIVITIES and store.labelling is None
    store.delete_activity("a1")
    store.add_activity("now room")
