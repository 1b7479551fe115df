// cli/format.h: how the protocol commands print numbers, times, workloads, lease terms and the epoch / lease
// verdict tables. Text only; every value comes from the library (vcp/protocol.h derives the deadline and what it
// proves, vcp/verdict.h the report). Every figure printed stands beside the words that say what it is. Pure
// functions, no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "vcp/protocol.h"
#include "vcp/verdict.h"
#include "vcp/workload.h"

namespace vcp::cli {

// The largest --rate a command takes: 9e18 operations per second per device, below 2^63 so that the flag's
// rounding (ScaledFlag) converts in range.
constexpr double kMaxRateFlag = 9e18;

std::string Fixed(double v, int digits);  // "%.*f"
std::string Sci(double v);                // "%.3g": 1.25e+12
// Hours (or GPU-hours): two decimals, or three significant digits below 0.01 so that a short demo lease does not
// print 0.00 ("0.00312").
std::string Hours(double v);
// Left-aligned (or right-aligned) to `width`; longer text is kept whole.
std::string Pad(std::string s, size_t width, bool right = false);
// Microseconds since the Unix epoch as UTC, "2026-12-01T21:02:08Z".
std::string TimeText(uint64_t unix_us);
// Microseconds as milliseconds: whole ones from 100 ms up and for whole values ("60000", "0"), else one decimal
// ("12.5"), so that "deadline 12.5 ms = compute time 10 ms x 1.25" adds up.
std::string Milliseconds(uint64_t us);
// "int8 4096x4096x4096 T=128"
std::string DescribeWorkload(const WorkloadParams& p);
// "D = 2 devices, R = 8 rounds per device, 40 samples per epoch": named so that the sample count is never mistaken
// for the inner dimension K.
std::string DescribeEpochShape(const Lease& lease);
// "1 device", "2 devices"
std::string DeviceCount(size_t devices);
// "0.25" (slack parts per million as a fraction)
std::string SlackText(uint32_t slack_ppm);

// The lease terms that bind the rate, one "label  text" line each, every line saying where its figure comes from:
//   claimed     1e+12 ops/s per device (2e+12 over the 2 devices)
//   deadline    1374 ms per epoch = compute time 1100 ms (1.1e+12 operations per device at the claimed rate)
//               x (1 + slack 0.25), from epoch start to the record's arrival on the verifier's clock
//   proves      a passing epoch proves >= 8e+11 ops/s per device (...): claimed rate / (1 + slack)
//   allowance   0 ms of the 275 ms slack margin is promised to the network round trip
std::string LeaseTermsText(const Lease& lease);

// One row per epoch verdict under EpochTableHeader(): epoch, schedule, verdict, window and deadline in ms, and what
// the epoch shows in words ("proven >= 1.2e+07 ops/s per device", "failed: tile-mismatch", "void: ...").
std::string EpochTableHeader();
std::string EpochRow(const Lease& lease, const Verdict& verdict);
// The devices the records name, per run of epochs with the same set, with "devices changed at epoch N" where the
// set changed (informative: the provider signs it and could lie; only the deadline proves throughput).
std::string DevicesText(const LeaseReport& report);
// The lease verdict block of `vcp report` and `vcp demo`.
std::string ReportText(const LeaseReport& report);

}  // namespace vcp::cli
