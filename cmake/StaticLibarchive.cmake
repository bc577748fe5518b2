# SPDX-License-Identifier: GPL-2.0-or-later
# libarchive.so drags libxml2, ICU and libstdc++ (its xar support, which
# we never use) into every process: ~2 MiB of the daemon's RSS. From
# libarchive.a the linker takes only the objects we call. The libraries
# pkg-config lists for it (compressors, acl, xml2) stay shared and are
# linked --as-needed, so those that none of those objects calls are
# dropped. SU_STATIC_LIBARCHIVE is ON by default when libarchive.a and
# all of those libraries are found; OFF (a sysroot that ships only the
# shared library), PkgConfig::LIBARCHIVE stays the shared library.
# Needs pkg_check_modules(LIBARCHIVE ... IMPORTED_TARGET libarchive);
# on Debian, contrib/deps.sh installs the -dev packages of those libraries.

find_library(LIBARCHIVE_STATIC_LIB NAMES libarchive.a
	HINTS ${LIBARCHIVE_STATIC_LIBRARY_DIRS} ${LIBARCHIVE_LIBRARY_DIRS})
set(su_archive_deps)
set(su_default OFF)
if(LIBARCHIVE_STATIC_LIB)
	set(su_default ON)
	get_filename_component(dir ${LIBARCHIVE_STATIC_LIB} DIRECTORY)
	set(su_dirs ${LIBARCHIVE_STATIC_LIBRARY_DIRS} ${dir})
	foreach(name ${LIBARCHIVE_STATIC_LIBRARIES})
		if(NOT name STREQUAL "archive")
			find_library(SU_ARCHIVE_DEP_${name} NAMES ${name}
				HINTS ${su_dirs})
			set(lib ${SU_ARCHIVE_DEP_${name}})
			if(SU_STATIC_DEPS)	# cmake/StaticDeps.cmake
				su_static_lib(slib ${name} HINTS ${su_dirs})
				if(slib)
					set(lib ${slib})
				endif()
			endif()
			if(NOT lib)
				message(STATUS "libarchive.a: no lib${name}; linking libarchive.so")
				set(su_default OFF)
				break()
			endif()
			list(APPEND su_archive_deps ${lib})
		endif()
	endforeach()
endif()
option(SU_STATIC_LIBARCHIVE "Link libarchive.a, its dependencies shared"
       ${su_default})
if(SU_STATIC_LIBARCHIVE)
	if(NOT su_default)
		message(FATAL_ERROR "SU_STATIC_LIBARCHIVE: libarchive.a or a library it needs is missing")
	endif()
	set_target_properties(PkgConfig::LIBARCHIVE PROPERTIES
		INTERFACE_LINK_LIBRARIES "${LIBARCHIVE_STATIC_LIB};-Wl,--push-state,--as-needed;${su_archive_deps};-Wl,--pop-state"
		INTERFACE_LINK_OPTIONS "")
	message(STATUS "libarchive: ${LIBARCHIVE_STATIC_LIB}, shared as needed: ${su_archive_deps}")
endif()
