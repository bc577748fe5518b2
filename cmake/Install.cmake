# SPDX-License-Identifier: GPL-2.0-or-later
# `cmake --install` beyond the two programs (installed by their own
# CMakeLists): the example config, the web UI, the man pages and the
# systemd unit, all under CMAKE_INSTALL_PREFIX (and DESTDIR).
#   SU_SYSTEMD_UNIT_DIR  where the unit goes, relative to the prefix
#                        (default lib/systemd/system)

set(SU_SYSTEMD_UNIT_DIR "lib/systemd/system" CACHE STRING
	"Directory of the systemd unit, relative to CMAKE_INSTALL_PREFIX")

# The example config documents every key; its token is a placeholder,
# so it is never installed as a live /etc/sysupgraded.conf.
install(FILES contrib/sysupgraded.conf
	DESTINATION ${CMAKE_INSTALL_DOCDIR}/examples)

# www/ has no build step; a checkout without it installs no web UI.
install(DIRECTORY www/ DESTINATION ${CMAKE_INSTALL_DATADIR}/sysupgraded/www
	OPTIONAL)

install(FILES man/sysupgraded.8 DESTINATION ${CMAKE_INSTALL_MANDIR}/man8)
install(FILES man/sysupgrade-bundle.1 DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
install(FILES man/sysupgraded.conf.5 DESTINATION ${CMAKE_INSTALL_MANDIR}/man5)

# The unit names /usr/sbin/sysupgraded; under another prefix it names
# the installed one. Made at install time, when `--prefix` is known.
install(CODE "set(su_unit_src \"${PROJECT_SOURCE_DIR}/contrib/init/systemd/sysupgraded.service\")
	set(su_unit_out \"${PROJECT_BINARY_DIR}/sysupgraded.service\")
	set(su_sbin \"${CMAKE_INSTALL_SBINDIR}\")")
install(CODE [[
	if(NOT IS_ABSOLUTE "${su_sbin}")
		set(su_sbin "${CMAKE_INSTALL_PREFIX}/${su_sbin}")
	endif()
	file(READ "${su_unit_src}" su_unit)
	string(REPLACE "/usr/sbin/sysupgraded" "${su_sbin}/sysupgraded" su_unit "${su_unit}")
	file(WRITE "${su_unit_out}" "${su_unit}")
]])
install(FILES ${PROJECT_BINARY_DIR}/sysupgraded.service
	DESTINATION ${SU_SYSTEMD_UNIT_DIR})
