"""The ``comodo-live`` command (and ``python app.py``): dispatches to the subcommands.

python app.py                      # desktop window (live drivers)
python app.py --demo               # desktop window on the synthetic demo session
python app.py --headless --demo --duration 60
python app.py --replay recordings/<session>/session.xdf
python app.py distill ...          # offline COMODO distillation + evaluation
python app.py export --session recordings/<session> --out <dir>
"""

from __future__ import annotations

import sys

import comodo_live  # noqa: F401  (points LSLAPICFG at the machine-scoped config first)


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv and argv[0] == "distill":
        from comodo_live.training.cli import main as distill_main

        return distill_main(argv[1:])
    if argv and argv[0] == "export":
        from comodo_live.export.cli import main as export_main

        return export_main(argv[1:])
    from comodo_app.cli import main as session_main

    return session_main(argv)

