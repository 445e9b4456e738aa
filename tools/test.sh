#!/usr/bin/env bash
# Builds dsvk with warnings as errors and runs every test (on lavapipe when
# there is no GPU; GPU tests run twice: normally and under the baseline
# profile, with the Khronos validation layer on). Then the host tests again
# in an ASan+UBSan build, and each libFuzzer target for a bounded time.
#   DSVK_BUILD_DIR     build directory (default: build); the sanitizer and
#                      fuzzing builds go to its asan/ and fuzz/ folders
#   DSVK_JOBS          parallel build and test jobs (default: all cores)
#   DSVK_FUZZ_RUNS     inputs each fuzz target runs (default 300000, about
#                      two minutes for all four on 2 cores; 0 skips the
#                      fuzzing stage)
#   DSVK_FUZZ_SEED     libFuzzer's seed (default 1)
# The fuzzers run a number of inputs from a fixed seed, not for a time, so
# that what they try does not depend on the machine's speed.
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh cmake gcc pkg-config libvulkan-dev libvulkan-volk-dev \
    glslang-tools mesa-vulkan-drivers vulkan-validationlayers libpcre2-dev \
    unicode-data libcjson-dev libstb-dev clang libclang-rt-dev \
    libmicrohttpd-dev curl
# The serve tests talk to the server through the official openai npm
# package. A machine with its own Node.js (not from Debian) keeps it: the
# Debian npm package would conflict with it.
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
    tools/install_deps.sh nodejs npm
fi

build=${DSVK_BUILD_DIR:-build}
jobs=${DSVK_JOBS:-$(nproc)}
fuzz_runs=${DSVK_FUZZ_RUNS:-300000}
fuzz_seed=${DSVK_FUZZ_SEED:-1}
# libFuzzer reads anything else as 0, which means "run forever" (runs) or
# "seed from the clock" (seed).
[[ $fuzz_runs =~ ^[0-9]+$ ]] ||
    { echo "DSVK_FUZZ_RUNS must be a number of inputs" >&2; exit 1; }
[[ $fuzz_seed =~ ^[1-9][0-9]*$ ]] ||
    { echo "DSVK_FUZZ_SEED must be a positive number" >&2; exit 1; }
# Every test gets the same generous limit, so that a hang fails the suite
# instead of stalling it: 13 times the slowest test on 2 busy cores.
timeout=1200
# Options are passed explicitly: a folder configured by hand before keeps
# its cache, and a DSVK_SANITIZE=ON left there would change what is tested.
cmake -S . -B "$build" -DDSVK_WERROR=ON -DDSVK_SANITIZE=OFF -DDSVK_FUZZ=OFF
cmake --build "$build" -j "$jobs"
ctest --test-dir "$build" --output-on-failure -j "$jobs" --timeout "$timeout"

# Sanitizers: everything that runs without a GPU (ctest label "host"),
# including the replay of tests/fuzz-corpus, and the 100-fold load/fail/
# unload test of the public API (label "leaks"), whose host memory
# LeakSanitizer checks. Other GPU tests are left out: they would mostly
# exercise the Vulkan driver, which is not built with ASan.
cmake -S . -B "$build/asan" -DDSVK_WERROR=ON -DDSVK_SANITIZE=ON -DDSVK_FUZZ=OFF
cmake --build "$build/asan" -j "$jobs"
ctest --test-dir "$build/asan" -L 'host|leaks' --output-on-failure -j "$jobs" \
    --timeout "$timeout"

# Fuzzing (clang, libFuzzer, ASan+UBSan): each target starts from its seeds
# in tests/fuzz-corpus and from what earlier runs in this build folder
# found; any crash, sanitizer report, broken property or input slower than
# 10 s fails the stage, and the input is saved in $build/fuzz/findings.
[ "$fuzz_runs" -gt 0 ] || exit 0
CC=clang cmake -S . -B "$build/fuzz" -DDSVK_WERROR=ON -DDSVK_FUZZ=ON
targets=(gguf model_open tokenizer chat serve_request)
# Where a target's seeds are when they are not in its own folder.
declare -A seeds=([model_open]=gguf)
cmake --build "$build/fuzz" -j "$jobs" --target "${targets[@]/#/fuzz_}"
mkdir -p "$build/fuzz/findings"
for target in "${targets[@]}"; do
    corpus=$build/fuzz/corpus/$target
    mkdir -p "$corpus"
    "$build/fuzz/tests/fuzz_$target" -runs="$fuzz_runs" -seed="$fuzz_seed" \
        -timeout=10 -print_final_stats=1 \
        -artifact_prefix="$build/fuzz/findings/$target-" \
        "$corpus" "tests/fuzz-corpus/${seeds[$target]:-$target}"
done
