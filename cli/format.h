// cli/format.h: how the protocol commands print numbers, times, workloads and the epoch / lease verdict tables.
// Text only; every value comes from the library. Pure functions, no state.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string>

#include "vcp/protocol.h"
#include "vcp/verdict.h"
#include "vcp/workload.h"

namespace vcp::cli {

std::string Fixed(double v, int digits);  // "%.*f"
std::string Sci(double v);                // "%.3g": 1.25e+12
// A probability near 1 shown through its complement ("1 - 2.2e-15"), which a double keeps exactly.
std::string FromComplement(double complement);
// Left-aligned (or right-aligned) to `width`; longer text is kept whole.
std::string Pad(std::string s, size_t width, bool right = false);
// Microseconds since the Unix epoch as UTC, "2026-12-01T21:02:08Z".
std::string TimeText(uint64_t unix_us);
// Microseconds as whole milliseconds, "60000".
std::string Milliseconds(uint64_t us);
// "int8 4096x4096x4096 T=128"
std::string DescribeWorkload(const WorkloadParams& p);
// "R = 8 rounds, 40 samples per epoch": named so that the sample count is never mistaken for the inner dimension K.
std::string DescribeEpochShape(const Lease& lease);

// One row per epoch verdict under EpochTableHeader().
std::string EpochTableHeader();
std::string EpochRow(const Lease& lease, const Verdict& verdict);
// The lease verdict block of `vcp report` and `vcp demo`.
std::string ReportText(const Lease& lease, const LeaseReport& report);

}  // namespace vcp::cli
