// tests/seeded_random.h: a deterministic stand-in for the OS CSPRNG, shared by the tests (protocol_fixture.h) and
// the fuzz targets' golden run (fuzz/fuzz_support.cpp), which must not depend on GoogleTest. Each call to the
// returned RandomFill continues one stream: TaggedHash("vcp.test.random", u64 seed || u64 counter) blocks.
#pragma once

#include <algorithm>
#include <cstdint>
#include <memory>
#include <span>

#include "vcp/bytes.h"
#include "vcp/hash.h"
#include "vcp/beacon.h"

namespace vcp::testing {

inline RandomFill SeededRandom(uint64_t seed) {
  auto counter = std::make_shared<uint64_t>(0);
  return [seed, counter](std::span<uint8_t> out) {
    for (size_t done = 0; done < out.size();) {
      ByteWriter w;
      w.U64(seed);
      w.U64((*counter)++);
      const Hash32 h = TaggedHash("vcp.test.random", w.bytes());
      const size_t n = std::min(out.size() - done, h.size());
      std::copy_n(h.begin(), n, out.begin() + done);
      done += n;
    }
  };
}

}  // namespace vcp::testing
