#!/usr/bin/env bash
# Rebuilds resources/demo-trained/: the bundled demonstration model, trained by EIView's
# own pipeline on synthetic data (CPU, about 5 minutes on 2 cores):
#   1. make-synthetic: 1000 CFP + OCT studies (seed 7), 112 x 112;
#   2. a tiny DINOv2-style backbone (width 64, 4 blocks, patch 16) pretrained from
#      scratch on the per-modality findings (drusen / haemorrhage / bumps / fluid), SGD,
#      no MoR so that the saved backbone itself carries them: our stand-in for a
#      foundation model that knows what lesions look like (pretrain-backbone.json);
#   3. the EI model (two stages, AdamW) trained on the study label, which needs both
#      modalities, with that backbone frozen (train-demo.json.in, 12 stage-2 epochs);
#   4. the model, its backbone, its test metrics and one test study are copied here.
# Seeded throughout: a rerun on the same machine gives the same backbone (same SHA-256).
#
#   scripts/make-demo-model.sh [BUILD_DIR]     (default: build)
set -euo pipefail
here="$(cd "$(dirname "$0")/.." && pwd)"
build="${1:-$here/build}"
cli="$build/app/eiview-cli"
[ -x "$cli" ] || { echo "no eiview-cli in $build (build it first)" >&2; exit 2; }
dest="$here/resources/demo-trained"
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT

"$cli" make-synthetic --out "$work/data" --n 1000 --seed 7 --size 112

# One image per row, labelled with its own finding.
{
  echo "id,split,label,IMG"
  tail -n +2 "$work/data/findings.csv" | while IFS=, read -r id split cfpf octf cfp oct; do
    echo "${id}c,$split,$cfpf,$cfp"
    echo "${id}o,$split,$octf,$oct"
  done
} > "$work/data/pretrain.csv"
"$cli" train --manifest "$work/data/pretrain.csv" --config "$dest/pretrain-backbone.json" --out "$work/pre" > "$work/pre.log"

mkdir -p "$work/ei"
cp "$work/pre/backbone.safetensors" "$work/ei/backbone.safetensors"  # model and backbone side by side
sed -e "s/@FUSION@/ei/" -e "s/@SEED@/1/" -e "s/@EPOCHS@/12/" "$dest/train-demo.json.in" > "$work/train-demo.json"
"$cli" train --manifest "$work/data/manifest.csv" --config "$work/train-demo.json" \
  --backbone "$work/ei/backbone.safetensors" --out "$work/ei" > "$work/ei.log"
"$cli" eval --model "$work/ei/model.eimodel" --manifest "$work/data/manifest.csv" --split test --json "$work/test.json"

cp "$work/ei/model.eimodel" "$dest/demo.eimodel"
cp "$work/ei/backbone.safetensors" "$dest/backbone.safetensors"
cp "$work/test.json" "$dest/test-metrics.json"
# A bundled study: the first test study labelled "lesion".
mkdir -p "$dest/study"
row="$(grep ',test,lesion,' "$work/data/manifest.csv" | head -n 1)"
IFS=, read -r id split label cfp oct <<< "$row"
cp "$work/data/$cfp" "$dest/study/cfp.png"
cp "$work/data/$oct" "$dest/study/oct.png"
echo "demo model: $dest/demo.eimodel (test mAP $(/usr/bin/python3 -c 'import json,sys; print(round(json.load(open(sys.argv[1]))["mAP"], 3))' "$work/test.json"))"
