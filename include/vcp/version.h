// vcp/version.h: the release version, defined once: `vcp --version`, the services' vcp_build_info metric and
// /v1/info, and CMake's project version (read from this file) all take it from here.
//
// Ownership: constants. Thread safety: constants. Errors: none.
#pragma once

#include <string_view>

#define VCP_VERSION_STRING "0.2.0"

namespace vcp {

inline constexpr std::string_view kVersion = VCP_VERSION_STRING;

}  // namespace vcp
