"""comodo-live core library: streams, sync, models, training, recording, export.

Never imports Qt. Importing this package points liblsl at the machine-scoped config (see
:mod:`comodo_live.lslconfig`) so no discovery packet leaves the machine, and gives numpy's BLAS
one thread for the process (see :mod:`comodo_live.blas`).
"""

from __future__ import annotations

from comodo_live.blas import single_threaded_blas
from comodo_live.lslconfig import ensure_machine_scope

single_threaded_blas()  # before numpy loads (pylsl imports it)
ensure_machine_scope()

__version__ = "0.1.0"
