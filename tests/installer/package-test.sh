#!/usr/bin/env bash
# The package test of issue 6: builds eiview's .deb and .tar.gz from a built tree with
# cpack, unpacks the .deb into a fresh root (dpkg -x), and checks that what is installed
# works on its own: declared runtime dependencies (no -dev packages), no path back into
# the build tree, `eiview-cli info` on the installed demo model, `eiview --version`
# offscreen, the desktop entry, the AppStream metadata and the MIME types.
#   package-test.sh BUILD_DIR VERSION
set -euo pipefail

build=$(cd "$1" && pwd)
version=$2
work=$(mktemp -d "${TMPDIR:-/tmp}/eiview-package-test.XXXXXX")
trap 'rm -rf "$work"' EXIT

fail() { echo "FAIL: $*" >&2; exit 1; }
step() { echo "== $*"; }

for tool in cpack dpkg-deb dpkg-shlibdeps fakeroot desktop-file-validate appstreamcli update-mime-database readelf; do
  command -v "$tool" >/dev/null || fail "$tool not found (scripts/run-tests.sh installs dpkg-dev, fakeroot, desktop-file-utils, appstream)"
done

step "cpack -G DEB;TGZ"
# Output goes to a private folder, so parallel runs and the integrator's packages never collide.
(cd "$build" && cpack -G "DEB;TGZ" -B "$work/pkg" --config "$build/CPackConfig.cmake" >"$work/cpack.log" 2>&1) \
  || { cat "$work/cpack.log"; fail "cpack failed"; }
deb=$(ls "$work"/pkg/*.deb)
tgz=$(ls "$work"/pkg/*.tar.gz)
ls -l "$deb" "$tgz"

step "package control fields"
[ "$(dpkg-deb -f "$deb" Package)" = eiview ] || fail "package name"
[ "$(dpkg-deb -f "$deb" Version)" = "$version" ] || fail "version $(dpkg-deb -f "$deb" Version) != $version"
depends=$(dpkg-deb -f "$deb" Depends)
echo "Depends: $depends"
if echo "$depends" | tr ',' '\n' | grep -E -- '-dev( |$|\()'; then
  fail "the package depends on -dev packages"
fi
for needed in libtorch libqt6widgets6 libdcmtk libopencv-core libopenblas0-pthread libqcustomplot; do
  echo "$depends" | grep -q "$needed" || fail "Depends lacks $needed"
done
# Every declared dependency is a real Debian package (here: installed, so it resolves).
for pkg in $(echo "$depends" | tr ',' '\n' | sed -e 's/(.*)//' -e 's/|.*//' -e 's/ //g' -e 's/:any$//'); do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "ok installed" || fail "declared dependency $pkg is not an installed Debian package"
done

step "dpkg -x into a fresh root"
root=$work/root
dpkg -x "$deb" "$root"
for f in usr/bin/eiview usr/bin/eiview-cli \
         usr/share/applications/org.eiview.EIView.desktop \
         usr/share/metainfo/org.eiview.EIView.metainfo.xml \
         usr/share/icons/hicolor/scalable/apps/org.eiview.EIView.svg \
         usr/share/mime/packages/eiview.xml; do
  [ -e "$root/$f" ] || fail "the package lacks /$f"
done
for size in 48 64 128 256; do
  png=$root/usr/share/icons/hicolor/${size}x${size}/apps/org.eiview.EIView.png
  [ -e "$png" ] || fail "the package lacks the ${size}x${size} icon"
  /usr/bin/python3 - "$png" "$size" <<'PY' || fail "$png is not a ${size}x${size} PNG"
import struct, sys
data = open(sys.argv[1], "rb").read(24)
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
assert struct.unpack(">II", data[16:24]) == (int(sys.argv[2]),) * 2, struct.unpack(">II", data[16:24])
PY
done
ls "$root"/usr/share/eiview/demo/study/* >/dev/null 2>&1 || fail "the package lacks the demo study (/usr/share/eiview/demo/study)"
for exe in eiview eiview-cli; do
  if readelf -d "$root/usr/bin/$exe" | grep -E 'R(UN)?PATH' ; then
    fail "$exe carries an RPATH/RUNPATH (it would reach into the build tree)"
  fi
  if ldd "$root/usr/bin/$exe" | grep "not found"; then
    fail "$exe needs a library that no installed package provides"
  fi
done
if grep -rl --binary-files=text "$build" "$root" ; then
  fail "installed files name the build folder $build"
fi

# Run the installed programs away from the source and build trees, with a fresh HOME.
home=$work/home
mkdir -p "$home"
run() { (cd "$work" && env HOME="$home" XDG_CONFIG_HOME="$home/.config" QT_QPA_PLATFORM=offscreen "$@"); }

step "eiview-cli --version"
out=$(run "$root/usr/bin/eiview-cli" --version)
echo "$out"
[ "$out" = "eiview-cli $version" ] || fail "eiview-cli --version printed '$out'"

step "eiview-cli info on the installed demo model"
mapfile -t models < <(find "$root/usr/share/eiview" -name '*.eimodel' 2>/dev/null | sort)
[ ${#models[@]} -gt 0 ] || fail "no demo model (*.eimodel) under /usr/share/eiview"
for model in "${models[@]}"; do
  echo "-- ${model#$root}"
  run "$root/usr/bin/eiview-cli" info "$model" >"$work/info.json" || fail "eiview-cli info ${model#$root} failed"
  /usr/bin/python3 - "$work/info.json" <<'PY' || fail "eiview-cli info output of ${model#$root} is not a model description"
import json, sys
info = json.load(open(sys.argv[1]))
config = info.get("config", info)
assert config["classes"], "no classes"
assert config["modalities"], "no modalities"
print("classes:", config["classes"], "modalities:", [m["name"] for m in config["modalities"]])
PY
done

step "eiview --version (offscreen)"
out=$(run "$root/usr/bin/eiview" --version)
echo "$out"
echo "$out" | head -1 | grep -qiE "^eiview $version\$" || fail "eiview --version's first line is not 'eiview $version'"
for lib in LibTorch Qt DCMTK ITK OpenCV Device; do
  echo "$out" | grep -q "^$lib: " || fail "eiview --version does not report $lib"
done

step "installed eiview opens the installed demo and runs it (offscreen screenshot)"
# With no arguments eiview looks for the demo beside itself (../share/eiview/demo), so this
# also checks that the package's layout is the one the program expects.
run timeout 300 "$root/usr/bin/eiview" --screenshot "$work/shot.png" || fail "installed eiview failed on the installed demo"
/usr/bin/python3 - "$work/shot.png" <<'PY' || fail "the screenshot is not a 1600x1000 PNG"
import struct, sys
data = open(sys.argv[1], "rb").read(24)
assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG"
assert struct.unpack(">II", data[16:24]) == (1600, 1000), struct.unpack(">II", data[16:24])
PY

step "desktop entry and AppStream metadata"
desktop-file-validate "$root/usr/share/applications/org.eiview.EIView.desktop" || fail "desktop-file-validate"
grep -q "^Icon=org.eiview.EIView$" "$root/usr/share/applications/org.eiview.EIView.desktop" || fail "desktop entry's icon name"
for type in application/dicom application/x-nifti application/x-eiview-model; do
  grep -q "^MimeType=.*$type;" "$root/usr/share/applications/org.eiview.EIView.desktop" || fail "desktop entry lacks $type"
done
appstreamcli validate --no-net "$root/usr/share/metainfo/org.eiview.EIView.metainfo.xml" || fail "appstreamcli validate"
grep -q "<release version=\"$version\"" "$root/usr/share/metainfo/org.eiview.EIView.metainfo.xml" || fail "metainfo has no release $version"

step "MIME database"
mime=$work/mime
mkdir -p "$mime/packages"
cp "$root/usr/share/mime/packages/eiview.xml" "$mime/packages/"
update-mime-database "$mime" >/dev/null 2>&1 || fail "update-mime-database refused eiview.xml"
for glob in "application/x-eiview-model:\*.eimodel" "application/x-nifti:\*.nii" "application/x-nifti:\*.nii.gz"; do
  grep -q ":$glob\$" "$mime/globs2" || fail "MIME glob $glob missing"
done

step ".tar.gz"
tar -tzf "$tgz" >"$work/tgz.txt"
for f in bin/eiview bin/eiview-cli share/applications/org.eiview.EIView.desktop share/metainfo/org.eiview.EIView.metainfo.xml; do
  grep -q "/$f\$" "$work/tgz.txt" || fail "the .tar.gz lacks $f"
done
grep -q "share/eiview/.*\.eimodel$" "$work/tgz.txt" || fail "the .tar.gz lacks the demo model"

echo "PASS: package $(basename "$deb") installs and runs"
