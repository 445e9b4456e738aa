#!/usr/bin/env bash
# Installs a dsvk build into a temporary prefix and uses it the way an
# application would: builds tests/package/consumer.c through pkg-config and
# through find_package(dsvk), against libdsvk.so and libdsvk.a, runs the
# programs, and checks that both libraries expose nothing but dsvk_*.
# Then builds the README's example, tools/examples/generate.c, both ways
# against the shared library and runs it on a model made by gen-model.
#   check.sh BUILD_DIR LIBDIR C_COMPILER GEN_MODEL
#   (LIBDIR: CMAKE_INSTALL_LIBDIR; GEN_MODEL: the gen-model program)
set -euo pipefail
build=$1
libdir_rel=$2
cc=$3
gen_model=$4
here=$(cd "$(dirname "$0")" && pwd)
example=$here/../../tools/examples/generate.c

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
prefix=$tmp/prefix
libdir=$prefix/$libdir_rel

fail() {
    echo "package: $*" >&2
    exit 1
}

cmake --install "$build" --prefix "$prefix" >/dev/null

for f in include/dsvk.h bin/dsvk "$libdir_rel/libdsvk.so.0.1.0" \
    "$libdir_rel/libdsvk.a" "$libdir_rel/pkgconfig/dsvk.pc" \
    "$libdir_rel/cmake/dsvk/dsvkConfig.cmake" \
    "$libdir_rel/cmake/dsvk/dsvkConfigVersion.cmake"; do
    [ -f "$prefix/$f" ] || fail "not installed: $f"
done
[ "$(readlink "$libdir/libdsvk.so")" = libdsvk.so.0 ] ||
    fail "libdsvk.so does not point to libdsvk.so.0"
[ "$(readlink "$libdir/libdsvk.so.0")" = libdsvk.so.0.1.0 ] ||
    fail "libdsvk.so.0 does not point to libdsvk.so.0.1.0"
readelf -d "$libdir/libdsvk.so.0.1.0" | grep -q 'SONAME.*\[libdsvk\.so\.0\]' ||
    fail "soname is not libdsvk.so.0"
"$prefix/bin/dsvk" --help >/dev/null || fail "installed dsvk does not run"

# Exports: the public API only. Both lists must hold dsvk_status_string, so
# an empty (broken) nm output cannot pass.
check_exports() { # what, symbol list
    local bad
    bad=$(grep -v '^dsvk_' <<<"$2" || true)
    [ -z "$bad" ] || fail "$1 exports non-dsvk_ symbols:"$'\n'"$bad"
    grep -qx dsvk_status_string <<<"$2" ||
        fail "$1 does not export dsvk_status_string"
    echo "package: $1 exports $(wc -l <<<"$2") symbols, all dsvk_*"
}
check_exports libdsvk.so \
    "$(nm -D --defined-only "$libdir/libdsvk.so" | awk '{print $3}')"
check_exports libdsvk.a \
    "$(nm -g --defined-only "$libdir/libdsvk.a" | awk 'NF == 3 {print $3}')"

# pkg-config: the shared library (found at run time through the rpath) and
# the static one (-l:libdsvk.a with the private libraries). The consumer
# compiles its own volk, as in tests/package/CMakeLists.txt.
export PKG_CONFIG_PATH=$libdir/pkgconfig
cflags=$(pkg-config --cflags dsvk)
libs=$(pkg-config --libs dsvk)
static_libs=$(pkg-config --static --libs dsvk)
read -ra cflags_a <<<"$cflags"
read -ra libs_a <<<"$libs"
read -ra static_a <<<"${static_libs/-ldsvk/-l:libdsvk.a}"
"$cc" -std=c17 -o "$tmp/pc_shared" "$here/consumer.c" /usr/include/volk.c \
    "${cflags_a[@]}" "${libs_a[@]}" -Wl,-rpath,"$libdir" -ldl
"$cc" -std=c17 -o "$tmp/pc_static" "$here/consumer.c" /usr/include/volk.c \
    "${cflags_a[@]}" "${static_a[@]}" -ldl
"$cc" -std=c17 -o "$tmp/pc_generate" "$example" "${cflags_a[@]}" \
    "${libs_a[@]}" -Wl,-rpath,"$libdir"
"$tmp/pc_shared"
"$tmp/pc_static"

# find_package(dsvk): dsvk::dsvk and dsvk::dsvk_static.
cmake -S "$here" -B "$tmp/cmake" -DCMAKE_PREFIX_PATH="$prefix" \
    -DCMAKE_C_COMPILER="$cc" -DCMAKE_BUILD_TYPE=Release \
    -DDSVK_EXAMPLE="$example" >/dev/null
cmake --build "$tmp/cmake" >/dev/null
"$tmp/cmake/consumer_shared"
"$tmp/cmake/consumer_static"

# The programs really use the library they were linked to.
for exe in "$tmp/pc_shared" "$tmp/cmake/consumer_shared"; do
    readelf -d "$exe" | grep -q 'NEEDED.*\[libdsvk\.so\.0\]' ||
        fail "$exe does not load libdsvk.so.0"
done
for exe in "$tmp/pc_static" "$tmp/cmake/consumer_static"; do
    if readelf -d "$exe" | grep -q 'NEEDED.*libdsvk'; then
        fail "$exe loads libdsvk.so although linked statically"
    fi
done
# The example, as a user runs it: a reply streamed from a real model.
"$gen_model" --preset tiny -o "$tmp/tiny.gguf" >/dev/null
for exe in "$tmp/pc_generate" "$tmp/cmake/generate"; do
    "$exe" "$tmp/tiny.gguf" "Hello there" 8 deepseek3 >/dev/null \
        2>"$tmp/generate.err" || fail "$exe failed: $(cat "$tmp/generate.err")"
    grep -Eq '^[0-9]+ prompt tokens at [0-9.]+ tokens/s, [0-9]+ generated' \
        "$tmp/generate.err" || fail "$exe printed no speed line"
    echo "package: $(basename "$exe"): $(tail -n 1 "$tmp/generate.err")"
done
echo "package: ok"
