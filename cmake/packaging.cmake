# cmake/packaging.cmake: the Debian package `vcp` (CPack's DEB generator), included last from the top-level
# CMakeLists.txt. `cpack -G DEB` in the build directory (or `cmake --build build --target package`) writes
# vcp_<version>_<arch>.deb. The package holds everything the project's install rules install, under /usr, plus the
# files only a system install has: the systemd units in /lib/systemd/system and the two service configs in
# /etc/vcp (conffiles). packaging/postinst creates the system user and group `vcp` both units run as and their
# state directories; packaging/postrm removes the state on purge. tests/deb/deb_test.sh installs it with apt-get.

# The system-only files: absolute destinations, in a component a plain `cmake --install build --prefix P` skips
# (EXCLUDE_FROM_ALL), so installing into a prefix never writes to /etc or /lib; only CPack asks for it (below).
get_filename_component(VCP_PACKAGING_ROOT "${CMAKE_CURRENT_LIST_DIR}" DIRECTORY)
install(FILES ${VCP_PACKAGING_ROOT}/deploy/vcp-agent.service ${VCP_PACKAGING_ROOT}/deploy/vcp-verifierd.service
        DESTINATION /lib/systemd/system COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${VCP_PACKAGING_ROOT}/deploy/agent.example.json DESTINATION /etc/vcp RENAME agent.json
        COMPONENT deb EXCLUDE_FROM_ALL)
install(FILES ${VCP_PACKAGING_ROOT}/deploy/verifierd.example.json DESTINATION /etc/vcp RENAME verifierd.json
        COMPONENT deb EXCLUDE_FROM_ALL)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME vcp)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
# One package: the full install (component ALL: every rule but the EXCLUDE_FROM_ALL ones) and then component deb.
set(CPACK_INSTALL_CMAKE_PROJECTS "${CMAKE_BINARY_DIR};${PROJECT_NAME};ALL;/"
                                 "${CMAKE_BINARY_DIR};${PROJECT_NAME};deb;/")
set(VCP_DEB_MAINTAINER "vcp maintainers <vcp-maintainers@example.invalid>" CACHE STRING
    "The Debian package's Maintainer field")
set(CPACK_PACKAGE_CONTACT "${VCP_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "verifiable compute proofs for rented GPUs: CLI, library, agent and verifier services")
# The body only (CPack puts the summary line above it and indents each line as the Description field needs).
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION "vcp lets a renter check that a rented GPU really computes what it is
paid for: verifier-seeded deterministic matmul workloads, Merkle commitments
over the output tiles and spot checks on a CPU, over a signed lease protocol.
The package holds the vcp command line tool, libvcp (shared and static) with
its headers, CMake and pkg-config files, and the provider agent and verifier
services (vcp-agent.service, vcp-verifierd.service) with example configs in
/etc/vcp. The units are not enabled: put the keys in /etc/vcp first
(/usr/share/doc/vcp/API.md).")
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# The libraries' packages from dpkg-shlibdeps; adduser for postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "adduser")
if(VCP_HAVE_CUDA)
  # The CUDA plugin links the toolkit's cudart and cuBLASLt, which no Debian package provides on a machine with
  # NVIDIA's .run toolkit: let dpkg-shlibdeps find them (CPack passes --ignore-missing-info for libraries no package
  # owns). The toolkit is a prerequisite of the plugin, not of the package: without it the loader reports the
  # plugin unusable and the CPU backend works.
  set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS_PRIVATE_DIRS ${CUDAToolkit_LIBRARY_DIR})
endif()
# shlibs for libvcp.so.0, so packages linking it get a versioned Depends on vcp.
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS ON)
set(CPACK_DEBIAN_PACKAGE_GENERATE_SHLIBS_POLICY ">=")
# Our own postinst/postrm replace the ones CPack would write for ldconfig: the triggers file runs ldconfig instead.
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${VCP_PACKAGING_ROOT}/packaging/postinst ${VCP_PACKAGING_ROOT}/packaging/prerm
    ${VCP_PACKAGING_ROOT}/packaging/postrm ${VCP_PACKAGING_ROOT}/packaging/conffiles
    ${VCP_PACKAGING_ROOT}/packaging/triggers)
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION TRUE)
set(CPACK_STRIP_FILES TRUE)
include(CPack)
