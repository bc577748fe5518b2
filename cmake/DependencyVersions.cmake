# SPDX-License-Identifier: GPL-2.0-or-later
# The oldest libmicrohttpd and libarchive sysupgraded may be built with,
# and why. Included by CMakeLists.txt after pkg_check_modules(MHD ...)
# (cmake/DeviceDeps.cmake) and pkg_check_modules(LIBARCHIVE ...); with
# SU_TOOLS_ONLY only libarchive is checked. The su_*_refusal() functions
# also run alone under `cmake -P` (test/cmake/dependency-versions.cmake).
#
# libmicrohttpd >= 0.9.76, or a 0.9.75 with the fix for CVE-2023-27371:
# before 0.9.76, MHD_PostProcessor's multipart parser can be crashed by
# a crafted request, and the daemon feeds every authorized multipart
# upload body (POST /bundle with a field "bundle") through it. Debian 12 ships 0.9.75 with that fix from
# 0.9.76 since its revision 0.9.75-6, which is recognised through
# dpkg-query. SU_MHD_PATCHED=AUTO (the default) accepts a 0.9.75 only
# when dpkg says the library is Debian's 0.9.75-6 or later; ON vouches
# that the 0.9.75 found carries the fix (another vendor's backport), OFF
# never accepts a 0.9.75.
#
# libarchive >= 3.6.2: the tar backend extracts signed but
# device-writing archives with ARCHIVE_EXTRACT_SECURE_* onto the
# target; 3.6.0 fixed extraction following a symlink of the archive to
# change the modes, times, ACLs or flags of a file outside it
# (CVE-2021-31566, CVE-2021-23177), 3.6.2 an unchecked allocation in its
# library (CVE-2022-36227), and 3.6.2 (Debian 12's) is the oldest the
# tests have run against.

set(SU_MHD_PATCHED "AUTO" CACHE STRING
    "libmicrohttpd 0.9.75 has the CVE-2023-27371 fix: AUTO (ask dpkg), ON, OFF")
set_property(CACHE SU_MHD_PATCHED PROPERTY STRINGS AUTO ON OFF)

# su_mhd_refusal(OUT VERSION DEB_VERSION PATCHED): OUT is empty when
# libmicrohttpd VERSION may be used, else the sentence why not.
# DEB_VERSION is the Debian package version of the library found (empty
# when dpkg does not know it); PATCHED is SU_MHD_PATCHED.
function(su_mhd_refusal out version deb_version patched)
	set(why "")
	set(cve "CVE-2023-27371: a crafted multipart request crashes MHD_PostProcessor, which parses every multipart upload")
	if(version VERSION_GREATER_EQUAL 0.9.76)
	elseif(NOT version VERSION_EQUAL 0.9.75)
		set(why "libmicrohttpd ${version} is too old: sysupgraded needs 0.9.76 or later, or a 0.9.75 with the fix for ${cve}")
	elseif(patched STREQUAL "ON")
	elseif(patched STREQUAL "OFF")
		set(why "libmicrohttpd 0.9.75 without the fix for ${cve} (SU_MHD_PATCHED=OFF); use 0.9.76 or later")
	elseif(NOT patched STREQUAL "AUTO")
		set(why "SU_MHD_PATCHED must be AUTO, ON or OFF, not '${patched}'")
	elseif(deb_version STREQUAL "")
		set(why "libmicrohttpd 0.9.75 is not a Debian package here, so nothing says it has the fix for ${cve}; use 0.9.76 or later, or -DSU_MHD_PATCHED=ON if this 0.9.75 carries the fix")
	else()
		# [epoch:]0.9.75-REVISION; Debian's fix came with revision 6.
		string(REGEX MATCH "^([0-9]+:)?0\\.9\\.75-([0-9]+)" m "${deb_version}")
		if(NOT m OR CMAKE_MATCH_2 LESS 6)
			set(why "libmicrohttpd is Debian's ${deb_version}, older than 0.9.75-6, the first with the fix for ${cve}; upgrade it, or -DSU_MHD_PATCHED=ON if this one carries the fix")
		endif()
	endif()
	set(${out} "${why}" PARENT_SCOPE)
endfunction()

# su_archive_refusal(OUT VERSION): OUT is empty when libarchive VERSION
# may be used, else the sentence why not.
function(su_archive_refusal out version)
	set(why "")
	set(need "sysupgraded needs 3.6.2 or later, since its tar backend extracts archives onto the device")
	if(version VERSION_LESS 3.6.0)
		set(why "libarchive ${version} is too old: ${need}, and before 3.6.0 an archive's symlink lets extraction change files outside it (CVE-2021-31566, CVE-2021-23177)")
	elseif(version VERSION_LESS 3.6.2)
		set(why "libarchive ${version} is too old: ${need}, and before 3.6.2 it misses the fix for CVE-2022-36227, an unchecked allocation")
	endif()
	set(${out} "${why}" PARENT_SCOPE)
endfunction()

# su_deb_version(OUT FILE): the Debian version of the package owning
# FILE (symlinks resolved), or empty when dpkg does not know it.
function(su_deb_version out file)
	set(ver "")
	find_program(SU_DPKG_QUERY dpkg-query)
	if(SU_DPKG_QUERY AND EXISTS "${file}")
		get_filename_component(real "${file}" REALPATH)
		execute_process(COMMAND ${SU_DPKG_QUERY} -S "${real}"
			OUTPUT_VARIABLE owner RESULT_VARIABLE rc
			OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
		# "libmicrohttpd12:amd64: /usr/lib/.../libmicrohttpd.so.12.60.0"
		if(rc EQUAL 0 AND owner MATCHES "^([^ ,]+): ")
			execute_process(COMMAND ${SU_DPKG_QUERY} -W
				-f=\${Version} "${CMAKE_MATCH_1}"
				OUTPUT_VARIABLE ver RESULT_VARIABLE rc
				OUTPUT_STRIP_TRAILING_WHITESPACE ERROR_QUIET)
			if(NOT rc EQUAL 0)
				set(ver "")
			endif()
		endif()
	endif()
	set(${out} "${ver}" PARENT_SCOPE)
endfunction()

# The check itself, when included from the build (not under -P); the
# libmicrohttpd half only where cmake/DeviceDeps.cmake looked for it.
if(NOT CMAKE_SCRIPT_MODE_FILE AND NOT SU_TOOLS_ONLY)
	# The library the daemon links: the first of MHD's link libraries.
	list(GET MHD_LINK_LIBRARIES 0 su_mhd_lib)
	set(su_mhd_deb "")
	if(MHD_VERSION VERSION_EQUAL 0.9.75 AND SU_MHD_PATCHED STREQUAL "AUTO")
		su_deb_version(su_mhd_deb "${su_mhd_lib}")
	endif()
	su_mhd_refusal(su_why "${MHD_VERSION}" "${su_mhd_deb}" "${SU_MHD_PATCHED}")
	if(su_why)
		message(FATAL_ERROR "${su_why} (found ${su_mhd_lib})")
	endif()
	if(su_mhd_deb)
		message(STATUS "libmicrohttpd ${MHD_VERSION}: Debian's ${su_mhd_deb}, which has the CVE-2023-27371 fix")
	endif()
endif()
if(NOT CMAKE_SCRIPT_MODE_FILE)
	su_archive_refusal(su_why "${LIBARCHIVE_VERSION}")
	if(su_why)
		message(FATAL_ERROR "${su_why} (found ${LIBARCHIVE_LINK_LIBRARIES})")
	endif()
endif()
