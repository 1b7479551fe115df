// Helpers shared by the protocol unit tests and the adversarial tests: deterministic keys, randomness and clocks,
// a tiny lease (64 x 64 x 64 int8, T = 8: 64 tiles per round, D devices x R rounds, deadline exactly 10 s), and the
// parties of a lease over temporary stores.
// The lazy provider is the library's (vcp/lazy_provider.h), so the tests measure the one the demo runs.
#pragma once

#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <filesystem>
#include <memory>
#include <numeric>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "seeded_random.h"
#include "test_util.h"
#include "vcp/beacon.h"
#include "vcp/bytes.h"
#include "vcp/epoch.h"
#include "vcp/keys.h"
#include "vcp/lazy_provider.h"
#include "vcp/lease_session.h"
#include "vcp/protocol.h"

namespace vcp::testing {

// 2023-11-14T22:13:20Z: any fixed instant works; messages carry absolute times.
constexpr uint64_t kT0 = 1'700'000'000'000'000;
constexpr uint64_t kHourUs = 3'600'000'000;

class ManualClock final : public Clock {
 public:
  explicit ManualClock(uint64_t now_us = kT0 + 1000) : now_(now_us) {}
  uint64_t NowMicros() const override { return now_; }
  void Advance(uint64_t us) { now_ += us; }
  void Set(uint64_t us) { now_ = us; }

 private:
  uint64_t now_;
};


inline Hash32 TestHash(std::string_view label, uint64_t i = 0) {
  ByteWriter w;
  w.Text(label);
  w.U64(i);
  return Sha256(w.bytes());
}

inline SecretKey KeyFrom(uint8_t byte) {
  std::array<uint8_t, 32> seed{};
  seed.fill(byte);
  return std::move(SecretKey::FromSeed(seed)).value();
}

// Evidence for D simulated test devices ("cpu: test", one thread each).
inline std::vector<DeviceEvidence> TestDevices(uint8_t devices = 1, const std::string& name = "test") {
  DeviceEvidence e;
  e.name = name;
  e.compute_units = 1;
  return std::vector<DeviceEvidence>(devices, e);
}

inline RunOptions CpuOneThread() {
  RunOptions options;
  options.backend = BackendChoice::kCpu;
  options.threads = 1;
  return options;
}

// Operations of one tiny round, 2 x 64^3; the tiny lease claims R x this / 8 s per device, so its compute time is
// 8 s and with the default slack 0.25 its deadline exactly 10 s, whatever R and D.
constexpr uint64_t kTinyRoundOps = 2 * 64 * 64 * 64;
constexpr uint64_t kTinyDeadlineUs = 10'000'000;

// An unsigned lease: the verifier key, nonce and signature are filled by SignedTinyLease or VerifierSession.
inline Lease TinyLease(LeaseMode mode, uint32_t rounds = 4, uint32_t samples = 0, uint8_t devices = 1) {
  Lease lease;
  lease.mode = mode;
  lease.workload.kind = WorkloadKind::kInt8;
  lease.workload.m = lease.workload.n = lease.workload.k = 64;
  lease.workload.tile = 8;
  lease.devices = devices;
  lease.rounds_per_epoch = rounds;
  lease.samples_per_epoch = samples ? samples : MinSamples(mode);
  lease.claimed_ops_per_second_per_device = rounds * kTinyRoundOps / 8;
  lease.slack_ppm = kDefaultSlackPpm;
  lease.network_allowance_us = 0;
  lease.start_us = kT0;
  lease.end_us = kT0 + 24 * kHourUs;
  if (mode == LeaseMode::kBeacon) {
    lease.beacon_name = "test-beacon";
    lease.beacon_genesis_us = kT0;
    lease.beacon_period_us = 1'000'000;
  }
  return lease;
}

inline Lease SignedTinyLease(const SecretKey& verifier, const SecretKey& provider, LeaseMode mode, uint32_t rounds = 4,
                             uint32_t samples = 0, uint64_t nonce = 1, uint8_t devices = 1) {
  Lease lease = TinyLease(mode, rounds, samples, devices);
  lease.verifier_key = verifier.public_key();
  lease.provider_key = provider.public_key();
  lease.nonce = TestHash("nonce", nonce);
  (void)Sign(lease, verifier);
  return lease;
}

inline EpochStart SignedStart(const Lease& lease, const SecretKey& verifier, uint64_t epoch, const Hash32& beacon,
                              const Hash32& prev, uint64_t start_us) {
  EpochStart start;
  start.lease_id = LeaseId(lease);
  start.epoch = epoch;
  start.beacon = beacon;
  start.prev_record = prev;
  start.start_us = start_us;
  (void)Sign(start, verifier);
  return start;
}

// The value of a Result that a helper returning a value cannot go on without. A failed one is recorded with its
// status and ends the test through an exception, which gtest reports as a failure of that test: never a
// dereference of a failed Result. (Test bodies use ASSERT_OK_AND_ASSIGN instead.)
template <typename T>
T Must(Result<T> result, std::string_view what) {
  if (!result.ok()) {
    ADD_FAILURE() << what << ": " << result.status().ToString();
    throw std::runtime_error(std::string(what) + " failed");
  }
  return std::move(result).value();
}
inline void Must(const Status& status, std::string_view what) {
  if (!status.ok()) {
    ADD_FAILURE() << what << ": " << status.ToString();
    throw std::runtime_error(std::string(what) + " failed");
  }
}

// A temporary directory removed with everything in it.
class TempDir {
 public:
  TempDir() : path_(MakeTempDir("vcp-protocol-store-")) {}
  ~TempDir() {
    std::error_code ec;
    std::filesystem::remove_all(path_, ec);
  }
  const std::filesystem::path& path() const { return path_; }

 private:
  std::filesystem::path path_;
};

// A verifier and a provider over stores in temporary directories, on a manual clock: the lease is created,
// accepted and the acceptance recorded. V() and P() reopen the stores, as each CLI command does.
struct Parties {
  SecretKey verifier = KeyFrom(0x31), provider = KeyFrom(0x32), stranger = KeyFrom(0x33);
  ManualClock clock;
  TempDir vdir, pdir;
  VerifierOptions voptions;
  ProverOptions poptions;
  Lease lease;
  LeaseAcceptance acceptance;

  explicit Parties(LeaseMode mode = LeaseMode::kInteractive, uint32_t rounds = 4, uint32_t samples = 0,
                   uint64_t random_seed = 7, uint8_t devices = 1) {
    voptions.clock = &clock;
    voptions.random = SeededRandom(random_seed);
    voptions.threads = 1;
    poptions.run = CpuOneThread();
    poptions.clock = &clock;
    Lease terms = TinyLease(mode, rounds, samples, devices);
    terms.provider_key = provider.public_key();
    VerifierSession v = Must(VerifierSession::Create(vdir.path(), terms, verifier, 0.01, voptions), "verifier Create");
    lease = v.lease();
    ProviderSession p = Must(ProviderSession::Accept(pdir.path(), lease, provider, clock), "provider Accept");
    acceptance = p.acceptance();
    Must(v.AddAcceptance(acceptance), "AddAcceptance");
  }
  // The audit time a scheduled epoch may start at now, with the clock moved there.
  void AdvanceToScheduled() {
    const uint64_t due = V().ScheduledStartUs();
    if (due > clock.NowMicros()) clock.Set(due);
  }
  // Each reopens its store, as every CLI command does; the session holds the store's lock while it lives, so
  // keep at most one of each alive at a time.
  VerifierSession V() { return Must(VerifierSession::Open(vdir.path(), voptions), "verifier Open"); }
  ProviderSession P() { return Must(ProviderSession::Open(pdir.path()), "provider Open"); }
};

}  // namespace vcp::testing
