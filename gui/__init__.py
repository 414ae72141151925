"""comodo-live desktop window (PyQt6 + pyqtgraph).

The GUI never imports torch: it talks only to the engine controller
(:mod:`comodo_live.session.controller`) and polls ``controller.snapshot()`` from a ``QTimer``.
Entry point: :func:`gui.app.run`.
"""
