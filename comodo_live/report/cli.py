"""``comodo-live report FOLDER [--out FILE]``: write the report of a session or distill run."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point; returns 0, or 2 when the folder is not a session or distillation run."""
    parser = argparse.ArgumentParser(
        prog="comodo-live report",
        description="Write report.html (learning curves, confusion matrix, prediction timeline, "
        "stream health) for a session folder or a 'comodo-live distill --out' folder.",
    )
    parser.add_argument("folder", help="recordings/<session> or a distillation run folder")
    parser.add_argument(
        "--out", default=None, help="HTML file to write (default FOLDER/report.html)"
    )
    args = parser.parse_args(argv)
    from comodo_live.report.build import write_report

    try:
        path = write_report(args.folder, args.out)
    except (OSError, ValueError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
