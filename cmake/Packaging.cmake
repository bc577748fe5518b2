# SPDX-License-Identifier: GPL-2.0-or-later
# CPack: `cpack -G DEB` in a build tree makes sysupgraded_VERSION_ARCH.deb
# from the install() rules (cmake/Install.cmake and the programs'), with
# prefix /usr. contrib/packaging/debian/deb-fixup.cmake then does what
# debhelper would: compressed man pages, copyright and changelog.gz, the
# /etc/sysupgraded.conf conffile (contrib/packaging/conffile.sh) and the
# unit in /lib/systemd/system. Test: integration.deb
# (test/integration/deb.sh), which also runs lintian.
#   SU_DEB_MAINTAINER  the Maintainer field

set(SU_DEB_MAINTAINER "sysupgraded maintainers <maintainers@sysupgraded.invalid>"
	CACHE STRING "Maintainer of the .deb that cpack -G DEB makes")

set(CPACK_GENERATOR "DEB")
set(CPACK_PACKAGE_NAME "sysupgraded")
set(CPACK_PACKAGE_VERSION "${PROJECT_VERSION}")
set(CPACK_PACKAGING_INSTALL_PREFIX "/usr")
set(CPACK_PACKAGE_CONTACT "${SU_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${SU_DEB_MAINTAINER}")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "firmware-update daemon for embedded Linux devices")
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION [[
sysupgraded accepts a signed firmware bundle over HTTPS, stages it in
tmpfs while verifying it as it streams in, and installs it: to the
inactive slot of an A/B device, flipping the U-Boot environment, or in
place on a single-slot device, through a RAM copy of itself that PID 1
hands over to. It writes raw MTD (NOR and NAND), UBI volumes, ext4
images on block devices and tarballs, and serves a web UI.
.
sysupgrade-bundle creates, signs, inspects and verifies bundles.]])
set(CPACK_DEBIAN_PACKAGE_SECTION "admin")
set(CPACK_DEBIAN_PACKAGE_PRIORITY "optional")
set(CPACK_DEBIAN_PACKAGE_HOMEPAGE "https://sysupgraded.invalid/")
set(CPACK_DEBIAN_FILE_NAME "DEB-DEFAULT")
# Depends from the libraries the programs link (dpkg-shlibdeps);
# libmtd and libubi are linked statically.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
	"${PROJECT_SOURCE_DIR}/contrib/packaging/debian/conffiles")
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
set(CPACK_STRIP_FILES ON)

# What deb-fixup.cmake needs, as CPack passes its CPACK_* variables on.
set(CPACK_SU_SOURCE_DIR "${PROJECT_SOURCE_DIR}")
set(CPACK_SU_UNIT_DIR "${SU_SYSTEMD_UNIT_DIR}")
set(CPACK_PRE_BUILD_SCRIPTS
	"${PROJECT_SOURCE_DIR}/contrib/packaging/debian/deb-fixup.cmake")

include(CPack)
