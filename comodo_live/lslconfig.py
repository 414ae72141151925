"""Point liblsl at comodo-live's machine-scoped configuration before pylsl is imported.

liblsl reads ``LSLAPICFG`` once, when the library loads, so this must run before ``import pylsl``
or ``import labrecorder`` anywhere in the process. ``import comodo_live`` does it; drivers, tests,
benchmarks and CI import ``comodo_live`` (or call :func:`ensure_machine_scope`) first.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

MACHINE_CFG = Path(__file__).with_name("lsl_api.cfg")
_LAN_CFG_TEXT = """; comodo-live LAN configuration (explicitly requested): discovery on the local network.
[multicast]
ResolveScope = site

[lab]
SessionID = comodo-live

[log]
level = -2
"""


def _lsl_loaded() -> bool:
    return "pylsl" in sys.modules or "labrecorder" in sys.modules


def ensure_machine_scope() -> Path:
    """Set ``LSLAPICFG`` to the machine-scoped config unless the user already chose one.

    Returns:
        The config file in effect.
    """
    current = os.environ.get("LSLAPICFG")
    if current:
        return Path(current)
    os.environ["LSLAPICFG"] = str(MACHINE_CFG)
    return MACHINE_CFG


def use_lan_config(directory: Path) -> Path:
    """Explicitly open LSL to the local network (multi-machine setups).

    Args:
        directory: where to write the LAN config file (e.g. the session folder).

    Raises:
        RuntimeError: if pylsl was already imported (liblsl has read its config by then).
    """
    if _lsl_loaded():
        raise RuntimeError("use_lan_config() must run before pylsl/labrecorder is imported")
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "lsl_api_lan.cfg"
    path.write_text(_LAN_CFG_TEXT)
    os.environ["LSLAPICFG"] = str(path)
    return path
