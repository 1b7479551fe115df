#!/bin/sh
# Installs a built vcp into a temporary prefix and consumes it from outside the source tree, the way a provider
# agent or a verifier would: the examples (copied out of the tree; examples/*.cpp, and examples/c/*.c as C11 when
# present) are built once through find_package(vcp) and once through pkg-config, against the shared library (and
# one against the static one), and each is run. Also checks the installed file list and libvcp.so's exports.
#
#   install_test.sh BUILD_DIR SOURCE_DIR CMAKE_GENERATOR
set -eu
build_dir=$1
source_dir=$2
generator=$3

work=$(mktemp -d "${TMPDIR:-/tmp}/vcp-install-test.XXXXXX")
trap 'rm -rf "$work"' EXIT
prefix=$work/prefix
fail() { echo "install_test: $*" >&2; exit 1; }

echo "== cmake --install $build_dir --prefix $prefix"
cmake --install "$build_dir" --prefix "$prefix" >"$work/install.log" || { cat "$work/install.log"; fail "install failed"; }

libdir=$(dirname "$(ls "$prefix"/lib*/libvcp.so.0 "$prefix"/lib/*/libvcp.so.0 2>/dev/null | head -n 1)")
[ -f "$libdir/libvcp.so.0" ] || fail "no libvcp.so.0 under $prefix/lib*"
for f in include/vcp/status.h include/vcp/export.h include/vcp/engine.h bin/vcp share/doc/vcp/README.md \
         share/vcp/deploy/vcp-agent.service; do
  [ -e "$prefix/$f" ] || fail "$f was not installed"
done
for f in libvcp.a libvcp.so libvcp_service.a cmake/vcp/vcpConfig.cmake cmake/vcp/vcpConfigVersion.cmake \
         cmake/vcp/vcpTargets.cmake pkgconfig/vcp.pc; do
  [ -e "$libdir/$f" ] || fail "$libdir/$f was not installed"
done
"$prefix/bin/vcp" --version || fail "the installed vcp does not run"
# The CUDA plugin, when this build has one, where the installed vcp looks for it: <bin>/../lib.
if [ -f "$build_dir/lib/libvcp_cuda.so" ] && [ ! -f "$prefix/lib/libvcp_cuda.so" ]; then
  fail "lib/libvcp_cuda.so was built but not installed as $prefix/lib/libvcp_cuda.so"
fi

# Hidden visibility: the API is exported, the internals (lib/*.h, e.g. the backend stage tables) are not.
nm -D --defined-only -C "$libdir/libvcp.so.0" >"$work/exports.txt"
grep -q 'vcp::RunWorkload(' "$work/exports.txt" || fail "libvcp.so does not export vcp::RunWorkload"
grep -q 'vcp::Status::WithContext(' "$work/exports.txt" || fail "libvcp.so does not export vcp::Status::WithContext"
if grep -q 'vcp::CpuBackend()' "$work/exports.txt"; then fail "libvcp.so exports internal symbols (vcp::CpuBackend, lib/backend.h)"; fi

# Outside the source tree: the examples and the consumer project are copied to the temporary directory.
cp -R "$source_dir/examples" "$work/examples"
cp -R "$source_dir/tests/install/consumer" "$work/consumer"
mkdir "$work/run"

example_args() {  # the arguments examples/CMakeLists.txt runs an example with (small shapes)
  sed -n "s/^set(VCP_EXAMPLE_ARGS_$1 \(.*\))$/\1/p" "$source_dir/examples/CMakeLists.txt"
}
run_example() {  # run_example EXECUTABLE NAME
  echo "== run $1 $(example_args "$2")"
  # shellcheck disable=SC2046
  (cd "$work/run" && timeout 120 "$1" $(example_args "$2")) >"$work/run.log" 2>&1 || {
    cat "$work/run.log"; fail "$1 failed"; }
  tail -n 2 "$work/run.log"
}

echo "== find_package(vcp) with CMAKE_PREFIX_PATH=$prefix"
cmake -S "$work/consumer" -B "$work/build-cmake" -G "$generator" -DCMAKE_BUILD_TYPE=Release \
      -DCMAKE_PREFIX_PATH="$prefix" -DEXAMPLES_DIR="$work/examples" >"$work/configure.log" 2>&1 || {
  cat "$work/configure.log"; fail "configuring the consumer against the installed vcp failed"; }
cmake --build "$work/build-cmake" -j 2 >"$work/build.log" 2>&1 || { cat "$work/build.log"; fail "consumer build failed"; }
for src in "$work"/examples/*.cpp; do
  name=$(basename "$src" .cpp)
  exe=$work/build-cmake/$name
  ldd "$exe" | grep -q "$libdir/libvcp.so.0" || fail "$name is not linked against the installed libvcp.so.0"
  run_example "$exe" "$name"
done
first=$(basename "$(ls "$work"/examples/*.cpp | head -n 1)" .cpp)
if ldd "$work/build-cmake/static_example" | grep -q libvcp.so; then fail "vcp::vcp_static linked libvcp.so"; fi
run_example "$work/build-cmake/static_example" "$first"
run_example "$work/build-cmake/service_link" service_link
for exe in "$work"/build-cmake/c_*; do
  [ -x "$exe" ] && run_example "$exe" "$(basename "$exe")"
done

echo "== pkg-config vcp with PKG_CONFIG_PATH=$libdir/pkgconfig"
export PKG_CONFIG_PATH="$libdir/pkgconfig"
cxx=${CXX:-c++}
cflags=$(pkg-config --cflags vcp)
libs=$(pkg-config --libs vcp)
static_libs=$(pkg-config --static --libs vcp | sed 's/-lvcp /-Wl,-Bstatic -lvcp -Wl,-Bdynamic /')
mkdir "$work/build-pc"
for src in "$work"/examples/*.cpp; do
  name=$(basename "$src" .cpp)
  # shellcheck disable=SC2086
  "$cxx" -std=c++20 -O1 $cflags "$src" -o "$work/build-pc/$name" $libs -Wl,-rpath,"$libdir" || fail "$name: pkg-config build failed"
  run_example "$work/build-pc/$name" "$name"
done
for src in "$work"/examples/c/*.c; do
  [ -f "$src" ] || continue
  name=c_$(basename "$src" .c)
  # shellcheck disable=SC2086
  "${CC:-cc}" -std=c11 -O1 $cflags "$src" -o "$work/build-pc/$name" $libs -Wl,-rpath,"$libdir" || fail "$name: pkg-config build failed"
  run_example "$work/build-pc/$name" "$name"
done
# shellcheck disable=SC2086
"$cxx" -std=c++20 -O1 $cflags "$work/examples/$first.cpp" -o "$work/build-pc/static_example" $static_libs ||
  fail "static pkg-config build failed (pkg-config --static --libs vcp: $static_libs)"
run_example "$work/build-pc/static_example" "$first"
echo "install_test: OK"
