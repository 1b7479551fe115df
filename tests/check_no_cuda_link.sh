#!/bin/sh
# check_no_cuda_link.sh BINARY: fails (exit 1) when BINARY links a CUDA library, directly (readelf's NEEDED
# entries) or through a dependency (ldd); exit 2 when it cannot be inspected. ctest case vcp_links_no_cuda.
bin=$1
dynamic=$(readelf -d "$bin") || exit 2
echo "$dynamic" | grep -q NEEDED || { echo "$bin: no NEEDED entries; is it a dynamic executable?"; exit 2; }
deps=$(ldd "$bin") || exit 2
if echo "$dynamic$deps" | grep -E 'libcuda|libcudart|libcublas'; then
  echo "$bin links a CUDA library; only the plugin libvcp_cuda.so may"
  exit 1
fi
echo "$bin links no CUDA library"
