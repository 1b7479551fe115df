# Sanitizer builds and libFuzzer instrumentation (included by the root CMakeLists.txt before lib/, so every target
# below gets the flags). scripts/sanitize configures both kinds of build; scripts/fuzz reuses the address one.
#
#   VCP_SANITIZE  ""                   no sanitizer (default)
#                 "address,undefined"  AddressSanitizer (with LeakSanitizer) + UndefinedBehaviorSanitizer, UB fatal
#                 "thread"             ThreadSanitizer
#   VCP_FUZZ      ON: coverage instrumentation for libFuzzer on every compile (clang only); fuzz/ links the targets.
#
# A sanitizer build is a test build: no CUDA plugin (the sanitizers do not see device code, and the plugin would
# need the runtime preloaded), no benchmarks.
set(VCP_SANITIZE "" CACHE STRING "Sanitizers to build with: empty, address,undefined, or thread")
set_property(CACHE VCP_SANITIZE PROPERTY STRINGS "" "address,undefined" "thread")
option(VCP_FUZZ "Instrument everything for libFuzzer (clang only) and build the fuzz targets as libFuzzer programs" OFF)

if(VCP_SANITIZE STREQUAL "")
  set(_vcp_san_flags)
elseif(VCP_SANITIZE STREQUAL "address,undefined")
  # GCC and clang leave float-cast-overflow out of "undefined"; the protocol converts doubles from flags and
  # leases to integers, so it is asked for by name. Without -fno-sanitize-recover a UB report would only print and
  # the test would still pass.
  set(_vcp_san_flags -fsanitize=address,undefined -fsanitize=float-cast-overflow -fno-sanitize-recover=all)
elseif(VCP_SANITIZE STREQUAL "thread")
  set(_vcp_san_flags -fsanitize=thread)
else()
  message(FATAL_ERROR "VCP_SANITIZE is \"${VCP_SANITIZE}\"; allowed: empty (no sanitizer), \"address,undefined\" "
                      "or \"thread\"")
endif()

if(VCP_FUZZ AND NOT CMAKE_CXX_COMPILER_ID MATCHES "Clang")
  message(FATAL_ERROR "VCP_FUZZ=ON needs clang (libFuzzer ships with it), but the C++ compiler is "
                      "${CMAKE_CXX_COMPILER_ID} ${CMAKE_CXX_COMPILER}; configure a fresh build directory with "
                      "-DCMAKE_CXX_COMPILER=clang++ -DCMAKE_C_COMPILER=clang (scripts/sanitize and scripts/fuzz do)")
endif()

if(_vcp_san_flags OR VCP_FUZZ)
  if(VCP_HAVE_CUDA)
    message(WARNING "vcp: VCP_SANITIZE/VCP_FUZZ build: the CUDA plugin is not built (VCP_WITH_CUDA set to OFF)")
    set(VCP_WITH_CUDA OFF CACHE BOOL "Compile the CUDA backend whenever nvcc is found" FORCE)
    set(VCP_HAVE_CUDA OFF)
  endif()
  if(VCP_BUILD_BENCH)
    message(WARNING "vcp: VCP_SANITIZE/VCP_FUZZ build: the benchmarks are not built (VCP_BUILD_BENCH set to OFF)")
    set(VCP_BUILD_BENCH OFF CACHE BOOL "Build the Google Benchmark programs" FORCE)
    set(VCP_BUILD_BENCH OFF)
  endif()
  # Frame pointers and line tables make every report's stack readable.
  list(APPEND _vcp_san_flags -fno-omit-frame-pointer -g)
  set(_vcp_san_link_flags ${_vcp_san_flags})
  if(VCP_FUZZ)
    list(APPEND _vcp_san_flags -fsanitize=fuzzer-no-link)
    add_compile_definitions(VCP_FUZZING_BUILD=1)
  endif()
  add_compile_options("$<$<COMPILE_LANGUAGE:C,CXX>:${_vcp_san_flags}>")
  add_link_options("$<$<LINK_LANGUAGE:C,CXX>:${_vcp_san_link_flags}>")
  if(CMAKE_CXX_COMPILER_ID MATCHES "Clang")
    # clang links the sanitizer and coverage runtimes into executables only: an instrumented libvcp.so leaves
    # their symbols for the program to define, which its -Wl,--no-undefined (lib/CMakeLists.txt) would refuse.
    # The C programs linked against it need the C++ part of the runtime too (UBSan's vptr checks in libvcp.so), and
    # that part needs libstdc++ named on the command line.
    add_link_options("$<$<LINK_LANGUAGE:C>:-fsanitize-link-c++-runtime;-lstdc++>")
    cmake_language(DEFER DIRECTORY ${CMAKE_SOURCE_DIR} CALL
                   set_property TARGET vcp_shared APPEND PROPERTY LINK_OPTIONS -Wl,-z,undefs)
  endif()
  message(STATUS "vcp: sanitizers \"${VCP_SANITIZE}\", libFuzzer instrumentation ${VCP_FUZZ}")
endif()
