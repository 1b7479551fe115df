// Prints the known-answer vectors of docs/SPEC.md section 9 as JSON (tests/vectors/spec_v1.json is its output,
// checked by tests/spec_vectors_test.cpp). Public API only, CPU engine.
#include <bit>
#include <cstdio>
#include <string>
#include <vector>

#include "vcp/bytes.h"
#include "vcp/engine.h"

namespace {

vcp::WorkloadParams Params(vcp::WorkloadKind kind, uint32_t m, uint32_t n, uint32_t k, uint32_t tile) {
  vcp::WorkloadParams p;
  p.kind = kind;
  p.m = m;
  p.n = n;
  p.k = k;
  p.tile = tile;
  for (size_t i = 0; i < p.seed.size(); ++i) p.seed[i] = static_cast<uint8_t>(i);  // 000102...1f
  return p;
}

std::string Join(const std::vector<std::string>& items) {
  std::string out;
  for (size_t i = 0; i < items.size(); ++i) out += (i ? ", " : "") + items[i];
  return out;
}

std::string Quote(const std::string& s) { return "\"" + s + "\""; }

bool PrintWorkload(vcp::WorkloadKind kind, bool last) {
  const vcp::WorkloadParams p = Params(kind, 40, 72, 33, 16);
  const vcp::InputKey key = vcp::DeriveInputKey(p);
  std::vector<std::string> a8, b8;
  if (kind == vcp::WorkloadKind::kInt8) {
    std::vector<int8_t> a(uint64_t{p.m} * p.k), b(uint64_t{p.k} * p.n);
    if (!vcp::GenerateInt8(p, vcp::Matrix::kA, a).ok() || !vcp::GenerateInt8(p, vcp::Matrix::kB, b).ok()) return false;
    for (int i = 0; i < 8; ++i) {
      a8.push_back(std::to_string(a[i]));
      b8.push_back(std::to_string(b[i]));
    }
  } else {
    std::vector<float> a(uint64_t{p.m} * p.k), b(uint64_t{p.k} * p.n);
    if (!vcp::GenerateFp32(p, vcp::Matrix::kA, a).ok() || !vcp::GenerateFp32(p, vcp::Matrix::kB, b).ok()) return false;
    char buf[64];
    for (int i = 0; i < 8; ++i) {
      std::snprintf(buf, sizeof buf, "\"%08x\"", std::bit_cast<uint32_t>(a[i]));
      a8.push_back(buf);
      std::snprintf(buf, sizeof buf, "\"%08x\"", std::bit_cast<uint32_t>(b[i]));
      b8.push_back(buf);
    }
  }
  vcp::RunOptions cpu;
  cpu.backend = vcp::BackendChoice::kCpu;
  auto run = vcp::RunWorkload(p, cpu);
  if (!run.ok()) return false;
  auto leaves = (*run)->LeafHashes();
  if (!leaves.ok()) return false;
  std::vector<std::string> leaf_hex;
  for (const auto& h : *leaves) leaf_hex.push_back(Quote(vcp::ToHex(h)));
  char key_hex[32];
  std::snprintf(key_hex, sizeof key_hex, "%08x", key.k0);
  std::string k0 = key_hex;
  std::snprintf(key_hex, sizeof key_hex, "%08x", key.k1);
  std::printf("  \"%s\": {\n", std::string(vcp::WorkloadName(kind)).c_str());
  std::printf("    \"seed\": \"%s\", \"m\": %u, \"n\": %u, \"k\": %u, \"tile\": %u,\n", vcp::ToHex(p.seed).c_str(), p.m,
              p.n, p.k, p.tile);
  std::printf("    \"philox_key\": [\"%s\", \"%s\"],\n", k0.c_str(), key_hex);
  std::printf("    \"a_first8\": [%s],\n    \"b_first8\": [%s],\n", Join(a8).c_str(), Join(b8).c_str());
  std::printf("    \"leaf_hashes\": [\n      %s\n    ],\n", Join(leaf_hex).c_str());
  std::printf("    \"root\": \"%s\"\n  }%s\n", vcp::ToHex((*run)->root()).c_str(), last ? "" : ",");
  return true;
}

}  // namespace

int main() {
  std::printf("{\n");
  if (!PrintWorkload(vcp::WorkloadKind::kInt8, false) || !PrintWorkload(vcp::WorkloadKind::kFp32Ordered, true)) {
    std::fprintf(stderr, "spec_vectors: the CPU engine failed\n");
    return 1;
  }
  std::printf("}\n");
  return 0;
}
