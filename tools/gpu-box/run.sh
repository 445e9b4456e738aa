#!/usr/bin/env bash
# Runs on the lent NVIDIA machine, from the repository copy there, after
# prepare.sh here: the suite on the NVIDIA driver (without the validation
# layer, which the image lacks), then dsvk bench on a V2-Lite-shaped model
# made there (models do not travel). Writes its logs to $OUT.
set -uo pipefail
for f in .gl/*.deb; do dpkg -x "$f" /; done
ldconfig
for f in .gl/libs/*.deb; do dpkg -x "$f" /opt/dsvk-libs; done
export LD_LIBRARY_PATH=/opt/dsvk-libs/usr/lib/x86_64-linux-gnu:/opt/dsvk-libs/lib/x86_64-linux-gnu
export VK_DRIVER_FILES=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
export DSVK_VALIDATION_OPTIONAL=1
# The build tree names the paths it was configured with: this checkout's
# and cmake's.
here=$(cd "$(dirname "$0")/../.." && pwd)
src=$(sed -n 's/^CMAKE_HOME_DIRECTORY:INTERNAL=//p' <(xz -dc "$here/build-carry/build-gpu.tar.xz" | tar -xO build-gpu/CMakeCache.txt))
[ "$here" = "$src" ] || { mkdir -p "$(dirname "$src")"; rm -rf "$src"; ln -s "$here" "$src"; }
[ -x /usr/bin/cmake ] || ln -s "$(command -v cmake)" /usr/bin/cmake
cd "$src" && tar -xJf build-carry/build-gpu.tar.xz
B=build-gpu
{ nvidia-smi --query-gpu=name,driver_version,memory.total --format=csv
  $B/dsvk devices; } 2>&1 | tee "$OUT/gpu.txt"
$B/dsvk devices >/dev/null 2>&1 || exit 1
model=/tmp/v2l6/v2l6-q8_0.gguf
mkdir -p /tmp/v2l6
$B/gen-model --preset v2-lite-like --n-layer 6 --n-expert 64 \
    --n-expert-used 6 --n-vocab 102400 --type q8_0 -o $model \
    > "$OUT/gen.txt" 2>&1 &
gen=$!
(cd $B && timeout 400 ctest -j12 -E '^(serve_|package)' --output-on-failure \
    --timeout 300) > "$OUT/ctest.log" 2>&1
grep -E "tests passed|\*\*\*" "$OUT/ctest.log" | tail -40
wait $gen
timeout 120 $B/dsvk bench -m $model -p 512 -n 128 -r 3 2>&1 | tee "$OUT/bench.txt"
