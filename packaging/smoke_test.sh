#!/usr/bin/env bash
# Smoke test of the built folder dist/cervix-studio/: run as a workstation
# would, from outside the source tree, with no Python on PATH and the user's
# data and settings in a scratch folder. It checks that
#   - the window draws the built-in synthetic sample itself on first start,
#     opens it offscreen and writes a screenshot, exiting 0;
#   - it starts on that sample three more times; the median start-up time to
#     the written screenshot is printed;
#   - the bundled `cervix` draws a dataset, trains the three small models for
#     one step each and predicts with them (the lazily imported torch,
#     torchvision's operators, timm, segmentation-models-pytorch and
#     albumentations).
# SMOKE_KEEP=1 keeps the scratch folder, screenshots included, to look at.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/.." && pwd)
APP=${1:-$ROOT/dist/cervix-studio}
APP=$(cd "$APP" && pwd)
SCRATCH=$(mktemp -d "${TMPDIR:-/tmp}/cervix-smoke.XXXXXX")
if [ -n "${SMOKE_KEEP:-}" ]; then
    echo "scratch folder (kept): $SCRATCH"
else
    trap 'rm -rf "$SCRATCH"' EXIT
fi

fail() {
    echo "smoke test FAILED: $*" >&2
    exit 1
}

for program in cervix-studio cervix; do
    [ -x "$APP/$program" ] || fail "$APP/$program is missing or not executable"
done

# A clean user: no Python on PATH, no virtual environment, no source tree in
# reach, data and settings in the scratch folder.
run() {
    (cd "$SCRATCH" && env -i \
        PATH=/usr/bin:/bin \
        HOME="$SCRATCH/home" \
        XDG_CONFIG_HOME="$SCRATCH/home/.config" \
        XDG_DATA_HOME="$SCRATCH/home/.local/share" \
        XDG_RUNTIME_DIR="$SCRATCH/runtime" \
        CERVIX_DATA_DIR="$SCRATCH/data" \
        QT_QPA_PLATFORM=offscreen \
        LANG=C.UTF-8 \
        "$@")
}
mkdir -p "$SCRATCH/home" "$SCRATCH/runtime"
chmod 700 "$SCRATCH/runtime"

check_png() {
    local file=$1
    [ -f "$file" ] || fail "no screenshot was written to $file"
    local size
    size=$(stat -c %s "$file")
    # A window with an image in it compresses to far more than a blank one.
    [ "$size" -gt 50000 ] || fail "$file is only $size bytes: an empty window?"
    [ "$(head -c 8 "$file" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] ||
        fail "$file is not a PNG file"
}

now_ms() { date +%s%3N; }

echo "== version"
run "$APP/cervix" --version
run "$APP/cervix-studio" --version

echo "== first start: the window draws the synthetic sample and opens it"
start=$(now_ms)
run "$APP/cervix-studio" --screenshot "$SCRATCH/first.png" ||
    fail "cervix-studio exited with status $? on first start"
echo "first start (sample drawn): $(($(now_ms) - start)) ms"
check_png "$SCRATCH/first.png"
SAMPLE="$SCRATCH/data/sample/sipakmed-synthetic"
[ -f "$SAMPLE/.cervix/project.json" ] || fail "no sample was drawn in $SAMPLE"

echo "== start-up time on the sample, three runs"
times=()
for attempt in 1 2 3; do
    start=$(now_ms)
    run "$APP/cervix-studio" "$SAMPLE" --screenshot "$SCRATCH/shot-$attempt.png" ||
        fail "cervix-studio exited with status $? on run $attempt"
    times+=($(($(now_ms) - start)))
    check_png "$SCRATCH/shot-$attempt.png"
done
median=$(printf '%s\n' "${times[@]}" | sort -n | sed -n 2p)
echo "start to screenshot: ${times[*]} ms; median ${median} ms"

echo "== the bundled command line"
run "$APP/cervix" synth "$SCRATCH/synth" --images-per-class 3 --seed 3 ||
    fail "cervix synth exited with status $?"
[ -d "$SCRATCH/synth/im_Parabasal" ] || fail "cervix synth drew no SIPaKMeD folders"
run "$APP/cervix" info "$SCRATCH/synth/im_Parabasal/im_Parabasal/001.bmp" ||
    fail "cervix info exited with status $?"
train() {
    local task=$1 arch=$2 size=$3
    run "$APP/cervix" train "$task" --data "$SCRATCH/synth" --arch "$arch" \
        --out "$SCRATCH/$task" --epochs 1 --max-steps 1 --batch-size 2 \
        --image-size "$size" --workers 0 --device cpu --pretrained none ||
        fail "cervix train $task exited with status $?"
    [ -f "$SCRATCH/$task/best/model.safetensors" ] ||
        fail "training $arch wrote no checkpoint"
}
train classifier tiny-cnn 64
train unet unet-resnet18 64
train maskrcnn maskrcnn-resnet18-fpn 128
run "$APP/cervix" predict --input "$SCRATCH/synth" --device cpu --run smoke \
    --model "$SCRATCH/maskrcnn/best" --model "$SCRATCH/unet/best" \
    --model "$SCRATCH/classifier/best" ||
    fail "cervix predict exited with status $?"
[ -d "$SCRATCH/synth/.cervix/predictions/smoke" ] ||
    fail "prediction wrote nothing to the dataset's store"

echo "== size"
du -sh "$APP"
echo "smoke test passed"
