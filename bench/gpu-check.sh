#!/usr/bin/env bash
# The engine on a GPU box that has only PyTorch (its LibTorch), CMake and a C++ compiler:
# builds models/ + eiview-bench alone (-DEIVIEW_MODELS_ONLY=ON), runs CPU-vs-CUDA parity
# for every parity case in every precision, the inference and training benchmarks, the
# trainer's all-reduce on NCCL and on Gloo with GPU tensors, and writes one JSON file of
# results. Budget: under 5 minutes on an H100 box with 16 cores.
#
#   bench/gpu-check.sh NLOHMANN_INCLUDE_DIR CASES.json [OUT_DIR]
#
# NLOHMANN_INCLUDE_DIR: the folder holding nlohmann/json.hpp (Debian's nlohmann-json3-dev
# headers, handed in: the box has none). CASES.json: `tests/models/parity_test.py
# --dump-cases CASES.json`, made where the test suite lives. OUT_DIR (default $OUT, else
# ./gpu-check-out): log.txt, one JSON per step and results.json, written as each step ends
# so that a run cut short still leaves what it measured; trace_*.json, Kineto traces of one
# study and one training step, ranked in the log and in profile_*.json.
set -uo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
nl="${1:?usage: gpu-check.sh NLOHMANN_INCLUDE_DIR CASES.json [OUT_DIR]}"
cases="${2:?usage: gpu-check.sh NLOHMANN_INCLUDE_DIR CASES.json [OUT_DIR]}"
out="${3:-${OUT:-$PWD/gpu-check-out}}"
py="${EIVIEW_PYTHON:-python3}"
build="${EIVIEW_GPU_BUILD:-$here/build-gpu}"
mkdir -p "$out"
log="$out/log.txt"
step() { echo "== $* ($(date +%T))" | tee -a "$log"; }
run() { "$@" 2>&1 | tee -a "$log"; return "${PIPESTATUS[0]}"; }

step "machine"
run nvidia-smi --query-gpu=name,memory.total,driver_version --format=csv,noheader
run "$py" -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name(0))"
prefix="$("$py" -c 'import torch; print(torch.utils.cmake_prefix_path)')"

step "build models + eiview-bench"
t0=$(date +%s)
configure() {
  run cmake -S "$here" -B "$build" -DCMAKE_BUILD_TYPE=Release -DEIVIEW_MODELS_ONLY=ON -DEIVIEW_BUILD_TESTS=OFF \
      -DCMAKE_PREFIX_PATH="$prefix" -DNLOHMANN_JSON_INCLUDE_DIR="$nl" "$@"
}
configure -DEIVIEW_CUDA_GRAPHS=ON || exit 1
if ! run cmake --build "$build" -j "$(nproc)" --target eiview-bench; then
  # CUDA graph replay needs LibTorch's CUDA headers; without them the engine still runs.
  step "build failed with CUDA graphs: building without them"
  configure -DEIVIEW_CUDA_GRAPHS=OFF || exit 1
  run cmake --build "$build" -j "$(nproc)" --target eiview-bench || exit 1
fi
echo "build seconds: $(( $(date +%s) - t0 ))" | tee -a "$log"
bench="$build/bench/eiview-bench"

step "parity: CPU fp32 vs CUDA in fp32, tf32, bf16, fp16"
run "$bench" parity --cases "$cases" --device cuda --json "$out/parity.json"
parity_rc=$?

step "infer 448, default precision, 1000 studies in a row, plain PyTorch in the same run, a profile"
run "$bench" infer --device cuda --precision auto --reps 20 --warmup 3 --studies 1000 --json "$out/infer448_auto.json" \
    --profile "$out/trace_infer448.json"
run "$py" "$here/bench/profile_summary.py" "$out/trace_infer448.json" --json "$out/profile_infer448.json"
for p in fp32 tf32 fp16; do
  step "infer 448, $p"
  run "$bench" infer --device cuda --precision "$p" --reps 20 --warmup 3 --no-python --json "$out/infer448_$p.json"
done
step "infer 224, default precision"
run "$bench" infer --device cuda --precision auto --size 224 --reps 20 --warmup 3 --no-python --json "$out/infer224_auto.json"

for p in auto fp32; do
  step "train 224, batch 16, $p"
  profile=()
  [ "$p" = auto ] && profile=(--profile "$out/trace_train.json")
  run "$bench" train --device cuda --precision "$p" --size 224 --batch 16 --steps 10 --warmup 3 --json "$out/train_$p.json" \
      "${profile[@]}"
done
run "$py" "$here/bench/profile_summary.py" "$out/trace_train.json" --json "$out/profile_train.json"

step "allreduce: NCCL, one rank (the process group forms; the trainer's sums)"
run "$bench" allreduce --device cuda --backend nccl --json "$out/allreduce_nccl_1.json"
# PyTorch's pip LibTorch ships no Gloo headers: there this step says the build has no Gloo.
step "allreduce: Gloo, 2 ranks with their gradients on the GPU"
run "$here/bench/allreduce-ranks.sh" "$bench" 2 --device cuda --backend gloo --json "$out/allreduce_gloo_2.json"

step "results.json"
"$py" - "$out" <<'PY'
import glob, json, os, sys
out = sys.argv[1]
results = {}
for path in sorted(glob.glob(os.path.join(out, "*.json"))):
    name = os.path.basename(path)[:-5]
    if name != "results" and not name.startswith("trace_"):
        with open(path) as f:
            results[name] = json.load(f)
with open(os.path.join(out, "results.json"), "w") as f:
    json.dump(results, f, indent=1)
print("wrote", os.path.join(out, "results.json"), "with", sorted(results))
PY
exit "$parity_rc"
