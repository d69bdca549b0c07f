# SPDX-License-Identifier: MIT
# Installation: `cmake --install build/default --prefix PREFIX` gives
#
#   PREFIX/include/mmsim/*.h                      the public headers
#   PREFIX/lib/libmmsim_core.a                    the library (static)
#   PREFIX/bin/mmsim                              the command
#   PREFIX/lib/pkgconfig/mmsim.pc                 for pkg-config --static
#   PREFIX/lib/cmake/mmsim/mmsimConfig.cmake      for find_package(mmsim)
#     (+ mmsimConfigVersion.cmake, mmsimTargets*.cmake: mmsim::mmsim_core)
#
# (lib is CMAKE_INSTALL_LIBDIR.)  libmmsim_core.a needs liburcu-memb,
# threads and, when the build links it, jemalloc: mmsimConfig.cmake finds
# them again for the consumer, mmsim.pc lists them as private (static)
# dependencies.  examples/out-of-tree builds against an installed tree
# both ways; tools/check-install.sh (ctest -L install) checks it.
# Included at the end of the top CMakeLists.txt.

include(GNUInstallDirs)
include(CMakePackageConfigHelpers)

set(MMSIM_VERSION 0.1.0)
set(MMSIM_INSTALL_CMAKEDIR ${CMAKE_INSTALL_LIBDIR}/cmake/mmsim)

# Consumers find the headers as <mmsim/...> (in the tree, the global
# include_directories() of the top CMakeLists.txt does the same).
target_include_directories(mmsim_core PUBLIC
	$<BUILD_INTERFACE:${PROJECT_SOURCE_DIR}/include>
	$<INSTALL_INTERFACE:${CMAKE_INSTALL_INCLUDEDIR}>)
set_target_properties(mmsim_core PROPERTIES EXPORT_NAME mmsim_core)

# A sanitizer build's library needs the sanitizer's runtime at link time
# (the build adds -fsanitize for the whole directory, not for the target).
if(MMSIM_SANITIZE STREQUAL "address")
	target_link_options(mmsim_core INTERFACE
		$<INSTALL_INTERFACE:-fsanitize=address,undefined>)
	set(MMSIM_PC_SANITIZE " -fsanitize=address,undefined")
elseif(MMSIM_SANITIZE STREQUAL "thread")
	target_link_options(mmsim_core INTERFACE
		$<INSTALL_INTERFACE:-fsanitize=thread>)
	set(MMSIM_PC_SANITIZE " -fsanitize=thread")
else()
	set(MMSIM_PC_SANITIZE "")
endif()

install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/mmsim
	DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
	FILES_MATCHING PATTERN "*.h")
install(TARGETS mmsim_core EXPORT mmsimTargets
	ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(TARGETS mmsim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# --- CMake package: find_package(mmsim), target mmsim::mmsim_core ----------
set(MMSIM_WITH_JEMALLOC OFF)
if(JEMALLOC_FOUND)
	set(MMSIM_WITH_JEMALLOC ON)
endif()
install(EXPORT mmsimTargets NAMESPACE mmsim::
	DESTINATION ${MMSIM_INSTALL_CMAKEDIR})
configure_package_config_file(
	${CMAKE_CURRENT_LIST_DIR}/mmsimConfig.cmake.in
	${CMAKE_CURRENT_BINARY_DIR}/mmsimConfig.cmake
	INSTALL_DESTINATION ${MMSIM_INSTALL_CMAKEDIR})
write_basic_package_version_file(
	${CMAKE_CURRENT_BINARY_DIR}/mmsimConfigVersion.cmake
	VERSION ${MMSIM_VERSION} COMPATIBILITY SameMinorVersion)
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mmsimConfig.cmake
	      ${CMAKE_CURRENT_BINARY_DIR}/mmsimConfigVersion.cmake
	DESTINATION ${MMSIM_INSTALL_CMAKEDIR})

# --- pkg-config: mmsim.pc ---------------------------------------------------
# The library is static, so its dependencies are needed at every link:
# `pkg-config --static --cflags --libs mmsim` (without --static pkg-config
# leaves Requires.private and Libs.private out).
set(MMSIM_PC_REQUIRES_PRIVATE "liburcu-memb")
if(MMSIM_WITH_JEMALLOC)
	string(APPEND MMSIM_PC_REQUIRES_PRIVATE " jemalloc")
endif()
# Paths in the .pc file relative to ${prefix} when they can be, so that an
# installed tree can be moved.
foreach(d LIBDIR INCLUDEDIR)
	if(IS_ABSOLUTE "${CMAKE_INSTALL_${d}}")
		set(MMSIM_PC_${d} "${CMAKE_INSTALL_${d}}")
	else()
		set(MMSIM_PC_${d} "\${prefix}/${CMAKE_INSTALL_${d}}")
	endif()
endforeach()
set(MMSIM_PC_PREFIX "__MMSIM_PREFIX__")	# replaced at install time
configure_file(${CMAKE_CURRENT_LIST_DIR}/mmsim.pc.in
	       ${CMAKE_CURRENT_BINARY_DIR}/mmsim.pc.gen @ONLY)
# ${prefix} is the install prefix of `cmake --install --prefix`, not the
# configure-time one: written at install time.
install(CODE "
	file(READ \"${CMAKE_CURRENT_BINARY_DIR}/mmsim.pc.gen\" pc)
	string(REPLACE \"__MMSIM_PREFIX__\" \"\${CMAKE_INSTALL_PREFIX}\" pc \"\${pc}\")
	file(WRITE \"${CMAKE_CURRENT_BINARY_DIR}/mmsim.pc\" \"\${pc}\")
")
install(FILES ${CMAKE_CURRENT_BINARY_DIR}/mmsim.pc
	DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
