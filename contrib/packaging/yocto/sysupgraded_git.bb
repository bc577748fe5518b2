# SPDX-License-Identifier: GPL-2.0-or-later
# Yocto recipe for sysupgraded (contrib/packaging/README.md, "Yocto"),
# written for scarthgap (5.0), whose meta-networking still has mbedtls
# 2.28: set PREFERRED_VERSION_mbedtls = "2.28%" in the distro or
# local.conf. Needs meta-oe (libinih) and meta-networking (mbedtls).
SUMMARY = "Firmware-update daemon: signed bundles over HTTPS, A/B and in place"
DESCRIPTION = "sysupgraded accepts a signed firmware bundle over HTTPS, \
verifies it as it streams into tmpfs and installs it to MTD, UBI, ext4 \
or tar targets, to the inactive slot of an A/B device or in place \
through a RAM copy of itself. sysupgrade-bundle creates and verifies \
bundles."
SECTION = "admin"
LICENSE = "GPL-2.0-or-later"
LIC_FILES_CHKSUM = "file://CMakeLists.txt;beginline=1;endline=1;md5=25b2fc1727a5d34a28ef0cb3fa994eb6"

# A git repository: by default a local one; point SYSUPGRADED_GIT_URI
# at yours, or build a checkout with externalsrc
# (EXTERNALSRC:pn-sysupgraded = "/path/to/checkout").
SYSUPGRADED_GIT_URI ??= "git:///srv/git/sysupgraded.git;protocol=file;branch=main"
SRC_URI = "${SYSUPGRADED_GIT_URI}"
SRCREV ??= "${AUTOREV}"
PV = "0.1.0+git"
S = "${WORKDIR}/git"

inherit cmake pkgconfig systemd

# What CMakeLists.txt and daemon/CMakeLists.txt look for; libmtd and
# libubi are mtd-utils' (its recipe exports them from 4.3 on, and
# mtd-utils_%.bbappend here before that).
DEPENDS = "gnutls json-c libarchive libinih libmicrohttpd libubootenv \
           mbedtls mtd-utils nettle"

EXTRA_OECMAKE = "-DBUILD_TESTING=OFF \
                 -DSU_SYSTEMD_UNIT_DIR=${systemd_system_unitdir}"

# /etc/sysupgraded.conf: the example without its token
# (contrib/packaging/conffile.sh); a bbappend of the image's own
# replaces it with the device's.
do_install:append() {
	install -d ${D}${sysconfdir}
	sh ${S}/contrib/packaging/conffile.sh ${S}/contrib/sysupgraded.conf \
		> ${D}${sysconfdir}/sysupgraded.conf
	chmod 0644 ${D}${sysconfdir}/sysupgraded.conf
}

SYSTEMD_SERVICE:${PN} = "sysupgraded.service"
# Enabled only once the config is the device's (token, TLS key).
SYSTEMD_AUTO_ENABLE ??= "disable"

FILES:${PN} += "${datadir}/sysupgraded ${systemd_system_unitdir}/sysupgraded.service"
CONFFILES:${PN} = "${sysconfdir}/sysupgraded.conf"
