#!/usr/bin/env bash
# The main job: install what is missing, build, and open the bundled demo study with the
# bundled model. Extra arguments go to eiview (e.g. --study DIR --model FILE).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
eiview_install_packages "${EIVIEW_PACKAGES[@]}"
eiview_build
cd "$EIVIEW_ROOT"
if [ -z "${DISPLAY:-}" ] && [ -z "${WAYLAND_DISPLAY:-}" ] && [ -z "${QT_QPA_PLATFORM:-}" ]; then
  echo "== no display found: running under xvfb-run"
  eiview_install_packages xvfb xauth
  exec xvfb-run -a -s "-screen 0 1600x1000x24" "$EIVIEW_BUILD_DIR/app/eiview" "$@"
fi
exec "$EIVIEW_BUILD_DIR/app/eiview" "$@"
