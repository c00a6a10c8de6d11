#!/usr/bin/env bash
# Fusion benchmark on the synthetic CFP + OCT task (core/data/SyntheticData.h): test mAP of
# unimodal (each modality), late fusion and EI, same data, seeds and budget, plus the
# training throughput. Prints the markdown table that docs/training.md quotes.
#
#   bench/train-fusion-table.sh [BUILD_DIR] [SEEDS...]      (default: build, seeds 1 2 3)
#
# Per seed: one data set (make-synthetic --seed S), then `train` with fusion late and
# with fusion ei from the same TRAIN.json except the fusion key. Stage 1 of both runs is
# the same unimodal training (same seed, same stage index), so the stage1_<modality>
# models of the EI run are the unimodal baselines under the same budget.
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
shift || true
seeds=("$@")
[ ${#seeds[@]} -eq 0 ] && seeds=(1 2 3)
cli="$build/app/eiview-cli"
[ -x "$cli" ] || { echo "no eiview-cli in $build (build it first)" >&2; exit 2; }
py=/usr/bin/python3
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
N="${EIVIEW_BENCH_STUDIES:-1000}"
EPOCHS="${EIVIEW_BENCH_EPOCHS:-12}"

for seed in "${seeds[@]}"; do
  "$cli" make-synthetic --out "$work/data$seed" --n "$N" --seed "$seed" --size 112 > /dev/null
  for fusion in late ei; do
    sed -e "s/@FUSION@/$fusion/" -e "s/@SEED@/$seed/" -e "s/@EPOCHS@/$EPOCHS/" \
      "$here/resources/demo-trained/train-demo.json.in" > "$work/train-$fusion-$seed.json"
    "$cli" train --manifest "$work/data$seed/manifest.csv" --config "$work/train-$fusion-$seed.json" \
      --backbone "$here/resources/demo-trained/backbone.safetensors" --out "$work/run-$fusion-$seed" > /dev/null
    "$cli" eval --model "$work/run-$fusion-$seed/model.eimodel" --manifest "$work/data$seed/manifest.csv" \
      --json "$work/eval-$fusion-$seed.json"
  done
  for m in CFP OCT; do
    "$cli" eval --model "$work/run-ei-$seed/stage1_$m.eimodel" --manifest "$work/data$seed/manifest.csv" \
      --json "$work/eval-uni$m-$seed.json"
  done
done

"$py" - "$work" "${seeds[@]}" <<'PY'
import json, sys, statistics as st
work, seeds = sys.argv[1], sys.argv[2:]
rows = [("unimodal CFP", "uniCFP"), ("unimodal OCT", "uniOCT"), ("late fusion", "late"), ("EI", "ei")]
print("| model | " + " | ".join(f"seed {s}" for s in seeds) + " | mean |")
print("|---|" + "---|" * (len(seeds) + 1))
means = {}
for name, key in rows:
    vals = [json.load(open(f"{work}/eval-{key}-{s}.json"))["mAP"] for s in seeds]
    means[key] = st.mean(vals)
    print(f"| {name} | " + " | ".join(f"{v:.3f}" for v in vals) + f" | {means[key]:.3f} |")
def sps(fusion):
    out = {}
    for s in seeds:
        for line in open(f"{work}/run-{fusion}-{s}/progress.jsonl"):
            e = json.loads(line)
            if e.get("event") == "validation" and e.get("samples_per_s"):
                out.setdefault(e["stage"], []).append(e["samples_per_s"])
    return {k: st.mean(v) for k, v in out.items()}
print()
print(f"EI - late fusion, mean test mAP: {means['ei'] - means['late']:+.3f}")
for fusion in ("late", "ei"):
    print(f"throughput ({fusion} run, samples/s by stage): " +
          ", ".join(f"{k} {v:.1f}" for k, v in sps(fusion).items()))
PY
