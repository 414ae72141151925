"""``python -m comodo_live.runtime <package> --lsl-type IMU | --csv FILE``."""

from __future__ import annotations

import sys

from comodo_live.runtime.cli import main

if __name__ == "__main__":
    sys.exit(main())
