# Install rules for what is not a target (the targets install from lib/CMakeLists.txt and cli/CMakeLists.txt):
#   include/vcp/*.h                          the public headers
#   <libdir>/cmake/vcp/vcpConfig*.cmake      find_package(vcp): vcp::vcp (shared), vcp::vcp_static, vcp::vcp_service
#   <libdir>/pkgconfig/vcp.pc                pkg-config vcp (shared; --static for libvcp.a)
#   share/doc/vcp                            README.md and docs/
#   share/vcp/deploy                         systemd units and example configurations
# Every installed file locates the others relative to itself, so `cmake --install build --prefix P` works for any P.
include(CMakePackageConfigHelpers)

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/vcp DESTINATION ${CMAKE_INSTALL_INCLUDEDIR} FILES_MATCHING PATTERN "*.h")

set(VCP_CMAKE_INSTALL_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/vcp)
install(EXPORT vcpTargets NAMESPACE vcp:: DESTINATION ${VCP_CMAKE_INSTALL_DIR})
configure_package_config_file(${CMAKE_CURRENT_LIST_DIR}/vcpConfig.cmake.in ${PROJECT_BINARY_DIR}/vcpConfig.cmake
                              INSTALL_DESTINATION ${VCP_CMAKE_INSTALL_DIR})
# Before 1.0 a minor release may change the API, so only the same major.minor version is compatible.
write_basic_package_version_file(${PROJECT_BINARY_DIR}/vcpConfigVersion.cmake COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/vcpConfig.cmake ${PROJECT_BINARY_DIR}/vcpConfigVersion.cmake
        DESTINATION ${VCP_CMAKE_INSTALL_DIR})

# pkg-config: prefix is found from the .pc file's own place (${pcfiledir}), so the file stays right wherever the
# tree is installed or copied.
file(RELATIVE_PATH VCP_PC_PREFIX_FROM_PCFILEDIR ${CMAKE_INSTALL_PREFIX}/${CMAKE_INSTALL_LIBDIR}/pkgconfig
     ${CMAKE_INSTALL_PREFIX})
string(REGEX REPLACE "/$" "" VCP_PC_PREFIX_FROM_PCFILEDIR "${VCP_PC_PREFIX_FROM_PCFILEDIR}")
configure_file(${CMAKE_CURRENT_LIST_DIR}/vcp.pc.in ${PROJECT_BINARY_DIR}/vcp.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/vcp.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)

install(FILES ${PROJECT_SOURCE_DIR}/README.md DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/docs/ DESTINATION ${CMAKE_INSTALL_DOCDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/deploy/ DESTINATION ${CMAKE_INSTALL_DATADIR}/vcp/deploy)
