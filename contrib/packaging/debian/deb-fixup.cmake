# SPDX-License-Identifier: GPL-2.0-or-later
# Run by CPack (CPACK_PRE_BUILD_SCRIPTS, cmake/Packaging.cmake) on the
# staging tree of the .deb, after the install() rules and before the
# archive: what debhelper would do for a Debian package.
#   * man pages gzip -9n (Debian policy 12.1; -n: no name, no time);
#   * /usr/share/doc/sysupgraded/copyright and changelog.gz (native);
#   * /etc/sysupgraded.conf from the example with no token
#     (contrib/packaging/conffile.sh), listed in ./conffiles;
#   * the systemd unit in /lib/systemd/system: Debian 12 ships units
#     under /lib until its /usr merge is complete, and lintian says so.

set(root "${CPACK_TEMPORARY_DIRECTORY}")
set(src "${CPACK_SU_SOURCE_DIR}")
set(doc "${root}/usr/share/doc/sysupgraded")
if(NOT IS_DIRECTORY "${root}/usr")
	message(FATAL_ERROR "deb-fixup: no usr/ in the staging tree ${root}")
endif()

# gzip_into(IN OUT): OUT is IN compressed with gzip -9n.
function(gzip_into in out)
	execute_process(COMMAND gzip -9nc "${in}" OUTPUT_FILE "${out}"
		RESULT_VARIABLE rc ERROR_VARIABLE err)
	if(NOT rc EQUAL 0)
		message(FATAL_ERROR "deb-fixup: gzip ${in}: ${rc} ${err}")
	endif()
	file(CHMOD "${out}" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
endfunction()

file(GLOB pages "${root}/usr/share/man/man*/*")
foreach(p ${pages})
	if(NOT p MATCHES "\\.gz$")
		gzip_into("${p}" "${p}.gz")
		file(REMOVE "${p}")
	endif()
endforeach()

file(MAKE_DIRECTORY "${doc}")
file(COPY_FILE "${src}/contrib/packaging/debian/copyright" "${doc}/copyright")
file(CHMOD "${doc}/copyright" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)
gzip_into("${src}/contrib/packaging/debian/changelog" "${doc}/changelog.gz")

file(MAKE_DIRECTORY "${root}/etc")
execute_process(COMMAND sh "${src}/contrib/packaging/conffile.sh"
		"${src}/contrib/sysupgraded.conf"
	OUTPUT_FILE "${root}/etc/sysupgraded.conf"
	RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
	message(FATAL_ERROR "deb-fixup: conffile.sh: ${rc} ${err}")
endif()
file(CHMOD "${root}/etc/sysupgraded.conf" PERMISSIONS OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ)

# Only the default unit directory moves; a chosen one is kept.
set(unitdir "${root}/usr/lib/systemd/system")
if(CPACK_SU_UNIT_DIR STREQUAL "lib/systemd/system" AND IS_DIRECTORY "${unitdir}")
	file(MAKE_DIRECTORY "${root}/lib/systemd/system")
	file(GLOB units "${unitdir}/*")
	foreach(u ${units})
		get_filename_component(name "${u}" NAME)
		file(RENAME "${u}" "${root}/lib/systemd/system/${name}")
	endforeach()
	# drop usr/lib/systemd/system and the parents it leaves empty
	foreach(d "${unitdir}" "${root}/usr/lib/systemd" "${root}/usr/lib")
		file(GLOB left "${d}/*")
		if(left)
			break()
		endif()
		file(REMOVE_RECURSE "${d}")
	endforeach()
endif()
