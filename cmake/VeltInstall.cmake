# SPDX-License-Identifier: BSL-1.0
# Installs headers, libraries, a CMake package (velt::client, velt::batch, velt::audit,
# velt::mock) and pkg-config files.
include(CMakePackageConfigHelpers)

install(DIRECTORY "${PROJECT_SOURCE_DIR}/include/velt" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(FILES "${PROJECT_BINARY_DIR}/include/velt/version.hpp" DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}/velt")
set(velt_installed_targets velt_client velt_batch velt_audit)
if(TARGET velt_mock)
  list(APPEND velt_installed_targets velt_mock)
endif()
install(TARGETS ${velt_installed_targets} EXPORT veltTargets
        ARCHIVE DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        LIBRARY DESTINATION "${CMAKE_INSTALL_LIBDIR}"
        RUNTIME DESTINATION "${CMAKE_INSTALL_BINDIR}"
        INCLUDES DESTINATION "${CMAKE_INSTALL_INCLUDEDIR}")
install(EXPORT veltTargets NAMESPACE velt:: DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/velt")

configure_package_config_file("${PROJECT_SOURCE_DIR}/cmake/veltConfig.cmake.in"
  "${PROJECT_BINARY_DIR}/veltConfig.cmake"
  INSTALL_DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/velt")
write_basic_package_version_file("${PROJECT_BINARY_DIR}/veltConfigVersion.cmake"
  COMPATIBILITY SameMinorVersion)
install(FILES "${PROJECT_BINARY_DIR}/veltConfig.cmake" "${PROJECT_BINARY_DIR}/veltConfigVersion.cmake"
        DESTINATION "${CMAKE_INSTALL_LIBDIR}/cmake/velt")

# velt.pc finds the prefix from its own place (${pcfiledir}), so that it stays right wherever
# the files go: `cmake --install --prefix DIR`, the Debian package's /usr (scripts/package),
# or a package unpacked elsewhere.
if(IS_ABSOLUTE "${CMAKE_INSTALL_LIBDIR}")
  set(VELT_PC_PREFIX "${CMAKE_INSTALL_PREFIX}")
else()
  file(RELATIVE_PATH velt_pc_up "/prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig" "/prefix")
  string(REGEX REPLACE "/$" "" velt_pc_up "${velt_pc_up}")
  set(VELT_PC_PREFIX "\${pcfiledir}/${velt_pc_up}")
endif()
configure_file("${PROJECT_SOURCE_DIR}/cmake/velt.pc.in" "${PROJECT_BINARY_DIR}/velt.pc" @ONLY)
install(FILES "${PROJECT_BINARY_DIR}/velt.pc" DESTINATION "${CMAKE_INSTALL_LIBDIR}/pkgconfig")
