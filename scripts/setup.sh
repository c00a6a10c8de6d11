#!/usr/bin/env bash
# Installs the Debian 12 packages EIView needs (only those missing), configures and
# builds it. Sourced by run-demo.sh and run-tests.sh; idempotent.
#   EIVIEW_BUILD_DIR   build folder (default: <repo>/build)
#   EIVIEW_JOBS        parallel build jobs (default: nproc)
set -euo pipefail

EIVIEW_ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
EIVIEW_BUILD_DIR=${EIVIEW_BUILD_DIR:-$EIVIEW_ROOT/build}
EIVIEW_JOBS=${EIVIEW_JOBS:-$(nproc)}

# Build and run time. libopenblas0-pthread matters: without it Debian's LibTorch uses
# the reference BLAS and runs ~50x slower.
EIVIEW_PACKAGES=(cmake ninja-build ccache g++ pkg-config
  qt6-base-dev libqt6svg6 qt6-image-formats-plugins
  libtorch-dev libopenblas0-pthread
  libdcmtk-dev dcmtk libgdcm-dev libinsighttoolkit5-dev libopencv-dev
  libqcustomplot-dev libqcustomplot2.1-qt6 nlohmann-json3-dev
  libgloo-dev)  # headers of c10d's Gloo process group (data-parallel training, issue 17)
EIVIEW_PACKAGES+=(libqt6sql6-sqlite  # the local study database (issue 14)
  orthanc orthanc-dicomweb)  # the real PACS the network tests start on loopback (issue 14)

eiview_install_packages() {
  local missing=()
  local p
  for p in "$@"; do
    if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed"; then
      missing+=("$p")
    fi
  done
  if [ ${#missing[@]} -eq 0 ]; then
    return 0
  fi
  echo "== installing missing Debian packages: ${missing[*]}"
  local sudo=""
  if [ "$(id -u)" -ne 0 ]; then sudo="sudo"; fi
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}

eiview_build() {
  echo "== configuring in $EIVIEW_BUILD_DIR"
  cmake -S "$EIVIEW_ROOT" -B "$EIVIEW_BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
  echo "== building ($EIVIEW_JOBS jobs)"
  cmake --build "$EIVIEW_BUILD_DIR" -j "$EIVIEW_JOBS"
}
