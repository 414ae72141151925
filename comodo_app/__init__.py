"""The application: argument parsing and wiring of core, drivers and GUI (``comodo-live``, ``app.py``)."""
