"""comodo-live core library: streams, sync, models, training, recording, export.

Never imports Qt. Importing this package points liblsl at the machine-scoped config (see
:mod:`comodo_live.lslconfig`) so no discovery packet leaves the machine.
"""

from __future__ import annotations

from comodo_live.lslconfig import ensure_machine_scope

ensure_machine_scope()

__version__ = "0.1.0"
