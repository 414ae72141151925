"""LSL drivers: sensors and simulators that publish on the common LSL clock.

Drivers know nothing of learning. Each is a background object (``start()``, idempotent ``stop()``
that joins, ``running``, context manager) with a CLI: ``python -m drivers.<name> --help``.
Importing this package imports :mod:`comodo_live` first, which points liblsl at the
machine-scoped config before pylsl is loaded.
"""

from __future__ import annotations

import comodo_live  # noqa: F401  (sets LSLAPICFG before any driver imports pylsl)
