#!/usr/bin/env bash
# Data-parallel training throughput (issue 17): the same TRAIN.json on 1 rank and on 2
# ranks of this machine (Gloo on loopback), each rank's thread budget = cores / ranks so
# that both runs use the same cores. Prints, per run, training samples/s (mean over the
# epochs of the fusion stage), the gradient all-reduce's share of a step (2 ranks), the
# ratio of the two throughputs, and the largest parameter difference of the two models.
#
#   bench/distributed-scaling.sh [BUILD_DIR] [STUDIES] [SIZE]   (default: build, 96, 64)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
studies="${2:-96}"
size="${3:-64}"
cli="$build/app/eiview-cli"
[ -x "$cli" ] || { echo "no eiview-cli in $build (build it first)" >&2; exit 2; }
cores=$(nproc)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$cli" make-synthetic --out "$work/data" --n "$studies" --size "$size" --seed 3 > /dev/null

config() {  # config THREADS
  cat > "$work/train-$1.json" <<JSON
{"model": {"backbone": {"patch_size": 16, "embed_dim": 192, "depth": 6, "num_heads": 3, "pos_grid": [4, 4]},
           "modalities": [{"name": "CFP", "size": [$size, $size]}, {"name": "OCT", "size": [$size, $size]}],
           "classes": ["lesion", "normal"], "adapter": {"hidden": 64}},
 "batch_size": 8, "max_epochs": 2, "stage1_max_epochs": 1, "patience": 100, "threads": $1, "seed": 5,
 "calibrate": false}
JSON
}
config "$cores"
config $((cores / 2 > 0 ? cores / 2 : 1))

calc() { /usr/bin/python3 -c "print($1)"; }

summary() {  # summary RUN_DIR: samples/s and sync share of the fusion stage's epochs
  /usr/bin/python3 - "$1/progress.jsonl" <<'PY'
import json, sys
events = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
v = [e for e in events if e.get("event") == "validation" and e.get("epoch", 0) > 0 and e["stage"].startswith("stage2")]
rate = sum(e["samples_per_s"] for e in v) / len(v)
share = [e["sync_share"] for e in v if "sync_share" in e]
print(f"{rate:.2f} {sum(share) / len(share) if share else 0:.4f}")
PY
}

start=$(date +%s.%N)
"$cli" train --manifest "$work/data/manifest.csv" --config "$work/train-$cores.json" --out "$work/one" > /dev/null
t1=$(calc "$(date +%s.%N) - $start")
read -r rate1 _ < <(summary "$work/one")

half=$((cores / 2 > 0 ? cores / 2 : 1))
port=$((20000 + RANDOM % 20000))
start=$(date +%s.%N)
for r in 0 1; do
  MASTER_ADDR=127.0.0.1 MASTER_PORT=$port WORLD_SIZE=2 RANK=$r LOCAL_RANK=$r \
    "$cli" train --manifest "$work/data/manifest.csv" --config "$work/train-$half.json" --out "$work/two" > /dev/null 2>&1 &
done
wait
t2=$(calc "$(date +%s.%N) - $start")
read -r rate2 share2 < <(summary "$work/two")

diff=$(/usr/bin/python3 - "$work/one/model.eimodel" "$work/two/model.eimodel" <<'PY'
import json, struct, sys
import numpy as np
def tensors(path):
    b = open(path, "rb").read()
    n = struct.unpack("<Q", b[:8])[0]
    h = json.loads(b[8:8 + n])
    out = {}
    for k, v in h.items():
        if k == "__metadata__" or v["dtype"] != "F32":
            continue
        s, e = v["data_offsets"]
        out[k] = np.frombuffer(b[8 + n + s:8 + n + e], dtype=np.float32)
    return out
a, b = tensors(sys.argv[1]), tensors(sys.argv[2])
print(max(float(np.abs(a[k] - b[k]).max()) for k in a))
PY
)
echo "$studies studies (60 % train), ${size}x${size}, ViT-S-like backbone (192 wide, 6 blocks), batch 8, $cores cores"
printf '1 rank  x %d threads: %6.2f samples/s (fusion stage), %6.1f s wall\n' "$cores" "$rate1" "$t1"
printf '2 ranks x %d threads: %6.2f samples/s (fusion stage), %6.1f s wall, all-reduce %.1f %% of a step\n' \
  "$half" "$rate2" "$t2" "$(calc "$share2 * 100")"
printf 'ratio 2 ranks / 1 rank: %.2f; largest parameter difference of the two models: %s\n' \
  "$(calc "$rate2 / $rate1")" "$diff"
