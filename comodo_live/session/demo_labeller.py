"""A scripted labeller for the synthetic demo: labels each scripted activity once, as a user would.

The demo's ground truth arrives on its ``activity:`` marker stream. When the script has been doing
an activity for ``settle_s`` and that activity has not been labelled yet, the labeller calls
``controller.start_label(name)`` for ``label_s`` seconds, then ``stop_label()`` — the same commands
the window's activity buttons send. Used by ``python app.py --demo --demo-labels S`` so a headless
demo shows live predictions without anyone pressing buttons.
"""

from __future__ import annotations

from typing import Any

from comodo_live.worker import Worker


class DemoLabeller(Worker):
    """Labels every activity of the demo script once, ``label_s`` seconds each.

    Args:
        controller: a started (or starting) engine controller in demo mode.
        label_s: seconds of labelling per activity, > 0.
        settle_s: the scripted activity must have lasted this long before labelling starts, > 0 s.
        poll_s: how often the ground truth is checked, seconds.
    """

    def __init__(
        self, controller: Any, label_s: float = 10.0, settle_s: float = 1.5, poll_s: float = 0.1
    ) -> None:
        if label_s <= 0 or settle_s <= 0 or poll_s <= 0:
            raise ValueError(
                f"label_s, settle_s and poll_s must be > 0 s, got {label_s}, {settle_s}, {poll_s}"
            )
        super().__init__("demo-labeller")
        self.controller = controller
        self.label_s = label_s
        self.settle_s = settle_s
        self.poll_s = poll_s
        self.labelled: list[str] = []
        self._current: str | None = None
        self._since = 0.0

    def _now(self) -> float | None:
        t, _ = self.controller.imu_plot_data(0.2)
        return float(t[-1]) if len(t) else None

    def _truth(self, now: float) -> str | None:
        streams = getattr(self.controller, "streams", None)
        return None if streams is None else streams.activity_over(now - self.settle_s, now)

    def _loop(self) -> None:
        while not self._stop_event.wait(self.poll_s):
            if not self.controller.running:
                continue
            now = self._now()
            if now is None:
                continue
            truth = self._truth(now)
            if self._current is not None:
                if truth != self._current or now - self._since >= self.label_s:
                    self.controller.stop_label()
                    self.labelled.append(self._current)
                    self._current = None
                continue
            if truth is not None and truth not in self.labelled:
                self.controller.start_label(truth)
                self._current, self._since = truth, now

    def _close(self) -> None:
        if self._current is not None and self.controller.running:
            self.controller.stop_label()
            self._current = None
