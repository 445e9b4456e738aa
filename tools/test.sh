#!/usr/bin/env bash
# Builds dsvk with warnings as errors and runs every test (on lavapipe when
# there is no GPU; GPU tests run twice: normally and under the baseline
# profile, with the Khronos validation layer on). Then the host tests again
# in an ASan+UBSan build, and each libFuzzer target for a bounded time.
#   DSVK_BUILD_DIR     build directory (default: build); the sanitizer and
#                      fuzzing builds go to its asan/ and fuzz/ folders
#   DSVK_JOBS          parallel build and test jobs (default: all cores)
#   DSVK_FUZZ_SECONDS  run time of each fuzz target (default 60; 0 skips
#                      the fuzzing stage)
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh cmake gcc pkg-config libvulkan-dev libvulkan-volk-dev \
    glslang-tools mesa-vulkan-drivers vulkan-validationlayers libpcre2-dev \
    unicode-data libcjson-dev libstb-dev clang libclang-rt-dev

build=${DSVK_BUILD_DIR:-build}
jobs=${DSVK_JOBS:-$(nproc)}
fuzz_seconds=${DSVK_FUZZ_SECONDS:-60}
# libFuzzer reads anything else as 0, which means "run forever".
[[ $fuzz_seconds =~ ^[0-9]+$ ]] ||
    { echo "DSVK_FUZZ_SECONDS must be a number of seconds" >&2; exit 1; }
cmake -S . -B "$build" -DDSVK_WERROR=ON
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs"

# Sanitizers: everything that runs without a GPU (ctest label "host"),
# including the replay of tests/fuzz-corpus, and the 100-fold load/fail/
# unload test of the public API (label "leaks"), whose host memory
# LeakSanitizer checks. Other GPU tests are left out: they would mostly
# exercise the Vulkan driver, which is not built with ASan.
cmake -S . -B "$build/asan" -DDSVK_WERROR=ON -DDSVK_SANITIZE=ON
cmake --build "$build/asan" -j "$jobs"
ctest --test-dir "$build/asan" -L 'host|leaks' --output-on-failure -j "$jobs"

# Fuzzing (clang, libFuzzer, ASan+UBSan): each target starts from its seeds
# in tests/fuzz-corpus and from what earlier runs in this build folder
# found; any crash, sanitizer report, broken property or input slower than
# 10 s fails the stage, and the input is saved in $build/fuzz/findings.
[ "$fuzz_seconds" -gt 0 ] || exit 0
CC=clang cmake -S . -B "$build/fuzz" -DDSVK_WERROR=ON -DDSVK_FUZZ=ON
targets=(gguf tokenizer chat)
cmake --build "$build/fuzz" -j "$jobs" --target "${targets[@]/#/fuzz_}"
mkdir -p "$build/fuzz/findings"
for target in "${targets[@]}"; do
    corpus=$build/fuzz/corpus/$target
    mkdir -p "$corpus"
    "$build/fuzz/tests/fuzz_$target" -max_total_time="$fuzz_seconds" \
        -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build/fuzz/findings/$target-" \
        "$corpus" "tests/fuzz-corpus/$target"
done
