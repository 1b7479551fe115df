// fuzz/fuzz_target.h: how a fuzz target is written once and built two ways.
//
//   VCP_FUZZ_TARGET(lease_message) { ... data ... }   // data: std::span<const uint8_t>, the input
//
// In a VCP_FUZZ build (clang, -fsanitize=fuzzer; fuzz/CMakeLists.txt defines VCP_FUZZ_LIBFUZZER for each target's
// own executable) the macro defines LLVMFuzzerTestOneInput, so build-*/fuzz/fuzz_<target> is a libFuzzer program.
// Otherwise it registers the function under its name in a table that the one replay program vcp_fuzz_replay
// (fuzz/replay_main.cpp) runs over every file of fuzz/corpus/<target>/ and fuzz/regressions/<target>/, which is how
// the normal build's ctest cases fuzz_replay_<target> replay every seed and every past finding.
//
// A target checks a property, not only that nothing crashes: VCP_FUZZ_CHECK(condition, what) reports a property
// failure (target, input, what) on stderr and aborts, which libFuzzer saves as a crash and the replay program
// reports as a failed input.
//
// Ownership: registration entries are static. Thread safety: targets run one input at a time. Errors: a failed
// property aborts the process (that is the report).
#pragma once

#include <cstddef>
#include <cstdint>
#include <span>
#include <string>

namespace vcp::fuzz {

using TargetFunction = void (*)(std::span<const uint8_t> data);

struct Target {
  const char* name;
  TargetFunction run;
};

// Registers a target in the replay table (static initialisation of each target's source).
struct TargetRegistration {
  TargetRegistration(const char* name, TargetFunction run);
};

// The registered targets, in registration order (replay build only).
std::span<const Target> RegisteredTargets();

// The name of the target and input being run, for property failure reports.
void SetCurrentInput(const char* target, const std::string& input);

[[noreturn]] void PropertyFailed(const char* file, int line, const std::string& what);

}  // namespace vcp::fuzz

#define VCP_FUZZ_CHECK(condition, what)                                                                   \
  do {                                                                                                    \
    if (!(condition)) ::vcp::fuzz::PropertyFailed(__FILE__, __LINE__, std::string(#condition) + ": " + (what)); \
  } while (0)

#if defined(VCP_FUZZ_LIBFUZZER)
#define VCP_FUZZ_TARGET(name)                                                      \
  static void VcpFuzzTarget_##name(std::span<const uint8_t> data);                 \
  extern "C" int LLVMFuzzerTestOneInput(const uint8_t* bytes, size_t size) {       \
    ::vcp::fuzz::SetCurrentInput(#name, "libFuzzer input");                        \
    VcpFuzzTarget_##name(std::span<const uint8_t>(bytes, size));                   \
    return 0;                                                                      \
  }                                                                                \
  static void VcpFuzzTarget_##name(std::span<const uint8_t> data)
#else
#define VCP_FUZZ_TARGET(name)                                                                          \
  static void VcpFuzzTarget_##name(std::span<const uint8_t> data);                                     \
  static const ::vcp::fuzz::TargetRegistration vcp_fuzz_registration_##name(#name, &VcpFuzzTarget_##name); \
  static void VcpFuzzTarget_##name(std::span<const uint8_t> data)
#endif
