# SPDX-License-Identifier: GPL-2.0-or-later
# cmake/DependencyVersions.cmake decides on pretend versions, as it would
# on a machine that has them:  cmake -DSU_SRC=DIR -P this-file
# Each case names the versions and whether configure must refuse them;
# a refusal's sentence must give the version found and the reason.
include(${SU_SRC}/cmake/DependencyVersions.cmake)

set(failures 0)

# mhd VERSION DEB_VERSION PATCHED ok|refuse [WORD...]: WORDs must be in
# the sentence of a refusal.
function(mhd version deb patched want)
	su_mhd_refusal(why "${version}" "${deb}" "${patched}")
	check("libmicrohttpd ${version} deb='${deb}' SU_MHD_PATCHED=${patched}"
	      "${why}" ${want} ${ARGN})
endfunction()

function(archive version want)
	su_archive_refusal(why "${version}")
	check("libarchive ${version}" "${why}" ${want} ${ARGN})
endfunction()

function(check what why want)
	set(bad "")
	if(want STREQUAL "ok" AND why)
		set(bad "refused: ${why}")
	elseif(want STREQUAL "refuse" AND NOT why)
		set(bad "accepted, but must be refused")
	elseif(want STREQUAL "refuse")
		foreach(word ${ARGN})
			string(FIND "${why}" "${word}" at)
			if(at LESS 0)
				set(bad "the refusal does not say '${word}': ${why}")
			endif()
		endforeach()
	endif()
	if(bad)
		message("FAIL: ${what}: ${bad}")
		math(EXPR n "${failures} + 1")
		set(failures ${n} PARENT_SCOPE)
	else()
		message("ok: ${what}: ${want}")
	endif()
endfunction()

mhd(0.9.76 "" AUTO ok)
mhd(1.0.1 "" OFF ok)
mhd(0.9.75 "0.9.75-6" AUTO ok)
mhd(0.9.75 "0.9.75-6+deb12u1" AUTO ok)
mhd(0.9.75 "0.9.75-10" AUTO ok)
mhd(0.9.75 "" ON ok)
mhd(0.9.75 "0.9.75-5" AUTO refuse "0.9.75-5" CVE-2023-27371 MHD_PostProcessor)
mhd(0.9.75 "0.9.75-3ubuntu1" AUTO refuse "0.9.75-3ubuntu1" CVE-2023-27371)
mhd(0.9.75 "" AUTO refuse "0.9.75" "not a Debian package" SU_MHD_PATCHED=ON)
mhd(0.9.75 "0.9.75-6" OFF refuse CVE-2023-27371 SU_MHD_PATCHED=OFF)
mhd(0.9.75 "" maybe refuse SU_MHD_PATCHED "maybe")
mhd(0.9.74 "" ON refuse "0.9.74 is too old" 0.9.76 CVE-2023-27371)
mhd(0.9.73 "0.9.73-6" AUTO refuse "0.9.73 is too old")
archive(3.6.2 ok)
archive(3.7.4 ok)
archive(3.6.1 refuse "3.6.1 is too old" 3.6.2 CVE-2022-36227)
archive(3.5.3 refuse "3.5.3 is too old" CVE-2021-31566 CVE-2021-23177)

# su_deb_version asks dpkg: Debian's own libmicrohttpd12 library, found
# through a symlink as pkg-config names it, and a file of no package.
find_program(dpkg_query dpkg-query REQUIRED)
execute_process(COMMAND ${dpkg_query} -W -f=\${Version} libmicrohttpd12
	OUTPUT_VARIABLE want RESULT_VARIABLE rc)
execute_process(COMMAND ${dpkg_query} -L libmicrohttpd12
	OUTPUT_VARIABLE files RESULT_VARIABLE rc2)
string(REGEX MATCH "[^\n]*/libmicrohttpd\\.so\\.12[^\n]*" lib "${files}")
if(NOT rc EQUAL 0 OR NOT rc2 EQUAL 0 OR NOT lib)
	message(FATAL_ERROR "dpkg-query knows no libmicrohttpd12, which contrib/deps.sh installs")
endif()
set(link "${CMAKE_CURRENT_BINARY_DIR}/libmicrohttpd.so")
file(CREATE_LINK "${lib}" "${link}" SYMBOLIC)
su_deb_version(got "${link}")
file(REMOVE "${link}")
set(why "")
if(NOT got STREQUAL want)
	set(why "'${got}', not '${want}'")
endif()
check("su_deb_version of a link to ${lib}: ${want}" "${why}" ok)
su_deb_version(got "${CMAKE_CURRENT_LIST_FILE}")
set(why "")
if(got)
	set(why "'${got}', not ''")
endif()
check("su_deb_version of a file of no package" "${why}" ok)

if(failures GREATER 0)
	message(FATAL_ERROR "${failures} case(s) failed")
endif()
