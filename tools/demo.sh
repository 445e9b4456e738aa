#!/usr/bin/env bash
# Installs what dsvk needs, builds it, and shows it at work: the Vulkan
# devices it finds, then `dsvk run` on the demo model (trained on the King
# James Bible), which ends with its tokens/s.
#   DSVK_BUILD_DIR  build directory (default: build)
#   DSVK_JOBS       parallel build jobs (default: all cores)
set -euo pipefail
cd "$(dirname "$0")/.."

tools/install_deps.sh cmake gcc pkg-config libvulkan-dev libvulkan-volk-dev \
    glslang-tools mesa-vulkan-drivers libpcre2-dev unicode-data libcjson-dev \
    libstb-dev libmicrohttpd-dev

build=${DSVK_BUILD_DIR:-build}
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j "${DSVK_JOBS:-$(nproc)}"
"$build"/dsvk devices
"$build"/dsvk run
