#!/usr/bin/env bash
# Packs the tier-2 GPU test suite for the GPU host, which has no .NET (see ../shared/DEVICE.md):
# publishes tests/ShadowKV.Gpu.Tests self-contained for linux-x64 (trimmed when the trimmed binary still
# discovers its tests, untrimmed otherwise), adds the small models and the haystack text the tests read, and writes
# .gpu/gpu-tests.tar.xz (git-ignored). The archive also carries peer/hf_reference.py (the Hugging Face peer check,
# copied by the project file). Prints the command that runs the suite on the GPU host: live test output ([timing] and
# [compile] lines: NVRTC cold compile and warm-start cache hits) and a CTRF JSON file with every test's duration.
#
# The skv CLI is published beside it (skv/), for running generate on the GPU host.
#
# Usage: tests/ShadowKV.Gpu.Tests/pack.sh            (from anywhere; SKV_SHARED_DIR overrides ../shared)
set -euo pipefail

repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$repo"
project=tests/ShadowKV.Gpu.Tests
publish_dir=out/gpu-tests
stage_dir=out/gpu-pack
archive=.gpu/gpu-tests.tar.xz
shared="${SKV_SHARED_DIR:-$repo/../shared}"
models=(stories260K)   # folders of $shared/models the tier-2 tests read
texts=(pg_essays.txt)  # files of $shared/data/haystack they read (the trained peer model's training text)

publish() {  # $@: extra MSBuild properties
    rm -rf "$publish_dir"
    dotnet publish "$project" -c Release -r linux-x64 --self-contained -o "$publish_dir" -nologo -v quiet "$@"
}

# A published xunit v3 suite is an executable; with no GPU here every GPU test skips, so a healthy binary
# reports a non-zero total and no failures. Trimming that breaks test discovery shows up as "Total: 0".
discovers_tests() {
    local log
    log="$(SKV_SHARED_DIR="$shared" "$publish_dir/ShadowKV.Gpu.Tests" 2>&1)" || { echo "$log" | tail -20; return 1; }
    echo "$log" | grep -E "Total: [1-9]" | tail -1
    echo "$log" | grep -qE "Total: [1-9][0-9]*, Errors: 0, Failed: 0"
}

echo "== publishing trimmed (TrimMode=partial)"
if publish -p:SkvTrim=true && discovers_tests; then
    flavour=trimmed
else
    echo "== trimmed build unusable; publishing untrimmed"
    publish
    discovers_tests
    flavour=untrimmed
fi

echo "== publishing the skv CLI (for 'skv generate --device gpu' on the host)"
rm -rf out/skv
dotnet publish runtime/ShadowKV.Cli -c Release -r linux-x64 --self-contained -o out/skv -nologo -v quiet

echo "== staging $stage_dir ($flavour)"
rm -rf "$stage_dir"
mkdir -p "$stage_dir/shared/models" "$stage_dir/shared/data/haystack" .gpu
cp -a "$publish_dir/." "$stage_dir/"
cp -a out/skv "$stage_dir/skv"
for model in "${models[@]}"; do
    if [[ ! -d "$shared/models/$model" ]]; then
        echo "missing $shared/models/$model (set SKV_SHARED_DIR)" >&2
        exit 1
    fi
    cp -a "$shared/models/$model" "$stage_dir/shared/models/"
done
for text in "${texts[@]}"; do
    cp -a "$shared/data/haystack/$text" "$stage_dir/shared/data/haystack/"
done

echo "== writing $archive"
XZ_OPT=-9 tar -cJf "$archive" -C "$stage_dir" .
ls -l "$archive" | awk '{printf "%s: %.1f MB\n", $NF, $5 / 1e6}'

echo "== run on the GPU host:"
echo "mkdir -p /tmp/r && tar -xJf .gpu/gpu-tests.tar.xz -C /tmp/r && SKV_SHARED_DIR=/tmp/r/shared /tmp/r/ShadowKV.Gpu.Tests -noColor -showLiveOutput -reporter verbose -ctrf /tmp/r/results.ctrf.json"
echo "and the CLI: /tmp/r/skv/skv generate --device gpu --model /tmp/r/shared/models/stories260K --prompt 'Once upon a time'"
