"""A scripted user for the synthetic demo: labels each scripted activity once through the window.

Used by the screenshot script, the GUI fps benchmark and the GUI tests. It clicks the activity
buttons of the window, exactly as a person watching the demo would: when the demo script (its
ground truth, from the demo's ``activity:`` markers) has been doing an activity for ``settle_s``,
it presses that activity's button for ``label_s``, once per activity.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from PyQt6.QtCore import QEventLoop, QTimer

from gui.main_window import MainWindow


def demo_activity(controller: Any, t: float, span_s: float = 1.0) -> str | None:
    """The demo script's activity over [t - span_s, t] (None when it changes or outside demo)."""
    streams = getattr(controller, "streams", None)
    return None if streams is None else streams.activity_over(t - span_s, t)


class DemoUser:
    """Labels ``activities`` on the demo, one stretch each; call :meth:`step` from a QTimer.

    Args:
        window: the main window (labels go through its activity buttons).
        activities: activities to add and label (the demo script's names).
        label_s: seconds of labelling per activity.
        settle_s: the activity must have lasted this long before labelling starts, s.
    """

    def __init__(
        self,
        window: MainWindow,
        activities: tuple[str, ...],
        label_s: float = 6.0,
        settle_s: float = 1.5,
    ) -> None:
        if label_s <= 0 or settle_s <= 0:
            raise ValueError(f"label_s and settle_s must be > 0 s, got {label_s}, {settle_s}")
        self.window = window
        self.activities = activities
        self.label_s = label_s
        self.settle_s = settle_s
        self.labelled: list[str] = []
        self._current: str | None = None
        self._since = 0.0
        for name in activities:
            window.activities.activity_added.emit(name)

    @property
    def current(self) -> str | None:
        """The activity being labelled now, or None."""
        return self._current

    @property
    def done(self) -> bool:
        """Every activity has been labelled once (and labelling has stopped)."""
        return self._current is None and set(self.labelled) >= set(self.activities)

    def step(self) -> None:
        """Look at the demo now and press/release an activity button when due."""
        t, _ = self.window.controller.imu_plot_data(0.1)
        if not len(t):
            return
        now = float(t[-1])
        truth = demo_activity(self.window.controller, now, self.settle_s)
        if self._current is not None:
            if truth != self._current or now - self._since >= self.label_s:
                self._click(self._current)  # release: stop labelling
                self.labelled.append(self._current)
                self._current = None
            return
        if (
            truth in self.activities
            and truth not in self.labelled
            and truth in self.window.activities.buttons
        ):
            self._current, self._since = truth, now
            self._click(truth)

    def _click(self, name: str) -> None:
        self.window.activities.buttons[name].click()


def wait_until(predicate: Callable[[], bool], timeout_s: float, what: str) -> None:
    """Run the Qt event loop until ``predicate()`` holds.

    Raises:
        TimeoutError: naming ``what`` if it does not hold within ``timeout_s`` seconds.
    """
    deadline = time.monotonic() + timeout_s
    loop = QEventLoop()
    while not predicate():
        if time.monotonic() > deadline:
            raise TimeoutError(f"{what} did not happen within {timeout_s:.0f} s")
        QTimer.singleShot(20, loop.quit)
        loop.exec()


def wait_for(seconds: float) -> None:
    """Run the Qt event loop for ``seconds``."""
    end = time.monotonic() + seconds
    wait_until(lambda: time.monotonic() >= end, seconds + 5.0, "waiting")
