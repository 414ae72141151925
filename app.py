"""comodo-live entry point (same as the installed ``comodo-live`` command).

python app.py                      # desktop window (live drivers)
python app.py --demo               # desktop window on the synthetic demo session
python app.py --headless --demo --duration 60
python app.py --replay recordings/<session>/session.xdf
python app.py distill ...          # offline COMODO distillation + evaluation
python app.py export --session recordings/<session> --out <dir>
"""

from __future__ import annotations

import sys

from comodo_app.main import main

if __name__ == "__main__":
    sys.exit(main())
