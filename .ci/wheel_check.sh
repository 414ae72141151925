#!/usr/bin/env bash
# CI: build the wheel, install it into a fresh venv and run the installed `comodo-live` command
# from a folder outside the repo: --version, --help, a 20-s headless demo session and the window
# (Qt offscreen) for 8 s.
#
# The fresh venv gets the wheel alone (--no-deps) and then sees the main venv's packages through
# a .pth file (appended after its own site-packages, so the wheel's code wins): no second 1.9 GB
# install (5 min here), nothing downloaded. `pip check` then proves every dependency the wheel
# declares is satisfied. Needs the main .venv (README step 1).
set -euo pipefail
cd "$(dirname "$0")/.."
start=$(date +%s)

rm -rf dist build
.venv/bin/pip wheel -q --no-deps -w dist . 2>&1 | grep -v "is ignored" || true
rm -rf build
wheel=$(ls dist/comodo_live-*.whl)
echo "built $wheel"
contents=$(.venv/bin/python -m zipfile -l "$wheel")
for needed in comodo_live/default_config.toml comodo_live/lsl_api.cfg comodo_live/py.typed \
  comodo_app/main.py comodo_app/cli.py gui/app.py drivers/sources.py comodo_live/report/build.py \
  comodo_live/runtime/cli.py licenses/LICENSE; do
  grep -q "$needed" <<<"$contents" || { echo "wheel lacks $needed" >&2; exit 1; }
done

work=$(mktemp -d /tmp/comodo-wheel.XXXXXX)
trap 'rm -rf "$work"' EXIT
python3 -m venv "$work/venv"
"$work/venv/bin/pip" install -q --no-deps "$wheel"
"$work/venv/bin/pip" uninstall -q -y setuptools  # the venv's own (old) one would shadow the main venv's
main_site=$(.venv/bin/python -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
wheel_site=$("$work/venv/bin/python" -c "import sysconfig; print(sysconfig.get_paths()['purelib'])")
echo "$main_site" >"$wheel_site/zz-main-venv-packages.pth"
"$work/venv/bin/python" -m pip check
echo "wheel built and installed in $(($(date +%s) - start)) s"

cd "$work"  # outside the repo: nothing can come from the checkout
export PATH="$work/venv/bin:$PATH"
unset LSLAPICFG # the installed package must point liblsl at its own machine-scoped config
location=$(python -c "import comodo_app, comodo_live; print(comodo_live.__file__)")
[[ "$location" == "$wheel_site"/* ]] || { echo "comodo_live came from $location" >&2; exit 1; }
comodo-live --version
help=$(comodo-live --help)
grep -q "report" <<<"$help" || { echo "comodo-live --help lists no subcommands" >&2; exit 1; }

demo="comodo-live --headless --demo --duration 20 --root $work/recordings"
if unshare -n true 2>/dev/null; then # LSL traffic cannot leave loopback
  unshare -n bash -c "ip link set lo up && $demo"
else
  $demo
fi
gui="comodo-live --demo --duration 8 --root $work/gui-recordings"  # the window, offscreen
if unshare -n true 2>/dev/null; then
  unshare -n bash -c "ip link set lo up && QT_QPA_PLATFORM=offscreen $gui"
else
  QT_QPA_PLATFORM=offscreen $gui
fi
session=$(ls -d "$work"/recordings/*/)
for name in session.xdf metrics.jsonl config.toml report.html; do
  [[ -s "$session/$name" ]] || { echo "the demo session lacks $name" >&2; exit 1; }
done
echo "wheel check passed in $(($(date +%s) - start)) s"
