# SPDX-License-Identifier: GPL-2.0-or-later
# libmtd.a, libubi.a and their headers in the sysroot, for sysupgraded.
# oe-core's mtd-utils recipe installs them itself from 4.3 (nanbield)
# on; this does the same for older releases (kirkstone), and leaves a
# recipe that already does alone.
do_install:append() {
	if [ ! -e ${D}${libdir}/libmtd.a ]; then
		install -d ${D}${includedir} ${D}${libdir}
		install -m 0644 ${S}/include/libmtd.h ${S}/include/libubi.h ${D}${includedir}/
		# built in ${B}, where do_install runs, as the 4.3 recipe has it
		oe_libinstall -a libmtd ${D}${libdir}/
		oe_libinstall -a libubi ${D}${libdir}/
	fi
}
