// A minimal parallel-for over an index range on std::threads (the CPU engine's only threading primitive).
#pragma once

#include <algorithm>
#include <cstdint>
#include <system_error>
#include <thread>
#include <vector>

namespace vcp {

// Positive: that many threads; 0 (documented) or negative (defensive): all hardware threads.
inline int ResolveThreads(int threads) {
  if (threads > 0) return threads;
  const unsigned hw = std::thread::hardware_concurrency();
  return hw == 0 ? 1 : static_cast<int>(hw);
}

// Calls body(begin, end) on contiguous chunks of [0, count) from up to `threads` threads (0 = all). The chunks
// are at least `grain` long so tiny ranges stay on the caller's thread.
template <typename Body>
void ParallelFor(uint64_t count, int threads, uint64_t grain, const Body& body) {
  const uint64_t workers =
      std::min<uint64_t>(static_cast<uint64_t>(ResolveThreads(threads)), (count + grain - 1) / std::max<uint64_t>(grain, 1));
  if (workers <= 1) {
    if (count > 0) body(uint64_t{0}, count);
    return;
  }
  std::vector<std::thread> pool;
  pool.reserve(workers - 1);
  const uint64_t chunk = (count + workers - 1) / workers;
  for (uint64_t w = 1; w < workers; ++w) {
    const uint64_t begin = w * chunk, end = std::min(count, begin + chunk);
    if (begin >= end) continue;
    // std::thread throws std::system_error when the OS refuses a thread (EAGAIN under a process or cgroup
    // limit); no exception may leave the library, so that chunk runs on the calling thread instead.
    try {
      pool.emplace_back([&body, begin, end] { body(begin, end); });
    } catch (const std::system_error&) {
      body(begin, end);
    }
  }
  body(uint64_t{0}, std::min(count, chunk));
  for (auto& t : pool) t.join();
}

}  // namespace vcp
