# SPDX-License-Identifier: GPL-2.0-or-later
# SU_STATIC_DEPS (OFF by default): link each library from its .a where
# one is installed, and with --gc-sections, so that only the objects we
# reach come along. For stage 2 this is RAM: the ramfs holds whole
# shared libraries (test/bench/RESULTS.md, "In-place handover": with
# Debian 12's libraries the closure goes 10.8 -> 8.8 MiB). Libraries
# without a .a (on Debian: p11-kit, libunistring), the C library and
# libxml2 (which libarchive.a's writers reach, and which would bring
# ICU and libstdc++) stay shared, --as-needed.
#   su_static_target(TARGET PREFIX): the pkg_check_modules() target
#       TARGET links the libraries ${PREFIX}_STATIC_LIBRARIES names.
#   su_static_lib(VAR NAME): VAR is NAME's .a, or "" when there is none.

option(SU_STATIC_DEPS "Link the libraries from their .a where installed" OFF)
set(SU_NEVER_STATIC c m pthread dl rt atomic xml2)

function(su_static_lib var name)
	if(name IN_LIST SU_NEVER_STATIC)
		set(${var} "" PARENT_SCOPE)
		return()
	endif()
	find_library(SU_STATIC_LIB_${name} NAMES lib${name}.a ${ARGN})
	if(SU_STATIC_LIB_${name})
		set(${var} ${SU_STATIC_LIB_${name}} PARENT_SCOPE)
	else()
		set(${var} "" PARENT_SCOPE)
	endif()
endfunction()

# NAME's shared library: its link name, or else its runtime file (a
# runtime package without -dev, such as Debian's libunistring2, ships
# only libunistring.so.2); else plain -lNAME, which fails loudly.
function(su_shared_lib var name)
	find_library(SU_SHARED_LIB_${name} NAMES ${name})
	if(SU_SHARED_LIB_${name})
		set(${var} ${SU_SHARED_LIB_${name}} PARENT_SCOPE)
		return()
	endif()
	foreach(dir ${CMAKE_C_IMPLICIT_LINK_DIRECTORIES} ${ARGN})
		file(GLOB found "${dir}/lib${name}.so.*")
		if(found)
			list(SORT found)
			list(GET found 0 first)
			set(${var} ${first} PARENT_SCOPE)
			return()
		endif()
	endforeach()
	set(${var} "-l${name}" PARENT_SCOPE)
endfunction()

function(su_static_target target prefix)
	set(libs)
	set(shared)
	foreach(name ${${prefix}_STATIC_LIBRARIES})
		su_static_lib(lib ${name} HINTS ${${prefix}_STATIC_LIBRARY_DIRS})
		if(lib)
			list(APPEND libs ${lib})
		else()
			su_shared_lib(lib ${name} ${${prefix}_STATIC_LIBRARY_DIRS})
			list(APPEND libs "-Wl,--push-state,--as-needed" "${lib}"
			     "-Wl,--pop-state")
			list(APPEND shared ${name})
		endif()
	endforeach()
	set_target_properties(${target} PROPERTIES
		INTERFACE_LINK_LIBRARIES "${libs}" INTERFACE_LINK_OPTIONS "")
	list(REMOVE_DUPLICATES shared)
	message(STATUS "SU_STATIC_DEPS: ${target} static; shared as needed: ${shared}")
endfunction()

if(SU_STATIC_DEPS)
	add_link_options(-Wl,--gc-sections)
endif()
