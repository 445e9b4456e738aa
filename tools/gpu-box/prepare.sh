#!/usr/bin/env bash
# Prepares a run of the suite and `dsvk bench` on a remote NVIDIA machine
# whose image has no Vulkan loader, none of dsvk's libraries, no
# validation layer, no network and a 64 MiB carry limit.
# Builds dsvk in Release into build-gpu/, packs it (xz: the test programs
# share most of their bytes) into build-carry/, and downloads the x86-64
# packages run.sh unpacks there into .gl/. Then, with the device tool:
#   run  command: bash tools/gpu-box/run.sh   carry: ["build-carry", ".gl"]
# Development only: nothing in the build or the tests calls it.
set -euo pipefail
cd "$(dirname "$0")/../.."

lists=$(mktemp -d)
mkdir -p .gl/libs "$lists/partial" build-carry
apt=(-oAPT::Architecture=amd64 -oAPT::Architectures=amd64 "-oDir::State::Lists=$lists")
apt-get "${apt[@]}" update -q
# The loader and libglvnd (the NVIDIA ICD needs it) go to / there; dsvk's
# own libraries go apart, so that none of the image's is replaced.
(cd .gl && apt-get "${apt[@]}" download libvulkan1 libglvnd0 libegl1 libgl1 \
    libglx0 libgles2 libopengl0)
(cd .gl/libs && apt-get "${apt[@]}" download libcjson1 libpcre2-8-0 \
    libmicrohttpd12 libgnutls30 libffi8 libgmp10 libhogweed6 libidn2-0 \
    libnettle8 libp11-kit0 libtasn1-6 libunistring2)

cmake -S . -B build-gpu -DCMAKE_BUILD_TYPE=Release -DDSVK_WERROR=ON
cmake --build build-gpu -j "$(nproc)"
# The serve tests' client, where a previous build installed it.
if [ -d build/tests/serve/node_modules ]; then
    rm -rf build-gpu/tests/serve/node_modules
    cp -r build/tests/serve/node_modules build-gpu/tests/serve/
fi
rm -rf build-gpu/tests/cache
tar --exclude='*.o' --exclude='*.a' --exclude='*.spv' \
    --exclude='build-gpu/dist' --exclude='build-gpu/dsvk_dist.o' \
    -cf - build-gpu | xz -9 -T0 > build-carry/build-gpu.tar.xz
ls -la build-carry/build-gpu.tar.xz
