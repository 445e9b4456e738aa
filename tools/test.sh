#!/usr/bin/env bash
# Builds dsvk with warnings as errors and runs every test (on lavapipe when
# there is no GPU; GPU tests run twice: normally and under the baseline
# profile, with the Khronos validation layer on).
#   DSVK_BUILD_DIR  build directory (default: build)
#   DSVK_JOBS       parallel build and test jobs (default: all cores)
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh cmake gcc pkg-config libvulkan-dev libvulkan-volk-dev \
    glslang-tools mesa-vulkan-drivers vulkan-validationlayers libpcre2-dev \
    libcjson-dev libstb-dev

build=${DSVK_BUILD_DIR:-build}
jobs=${DSVK_JOBS:-$(nproc)}
cmake -S . -B "$build" -DDSVK_WERROR=ON
cmake --build "$build" -j "$jobs"
cd "$build"
ctest --output-on-failure -j "$jobs"
