# SPDX-License-Identifier: GPL-2.0-or-later
# The libraries only the device side needs: the daemon's HTTP server
# (libmicrohttpd; gnutls is looked for in daemon/CMakeLists.txt) and the
# install library's config, boot environment and flash backends.
# CMakeLists.txt includes this file unless SU_TOOLS_ONLY, so that a
# build host builds sysupgrade-bundle without any of them installed.
pkg_check_modules(MHD REQUIRED IMPORTED_TARGET libmicrohttpd)
pkg_check_modules(INIH REQUIRED IMPORTED_TARGET inih)
pkg_check_modules(UBOOTENV REQUIRED IMPORTED_TARGET libubootenv)

# libmtd/libubi: a sysroot copy (Yocto, Buildroot) or the one that
# contrib/deps.sh builds from Debian's mtd-utils source; point
# CMAKE_PREFIX_PATH at it. Buildroot before 2021.08 puts the headers in
# include/mtd/ (contrib/packaging/README.md, "Buildroot").
find_path(LIBMTD_INCLUDE_DIR libmtd.h PATH_SUFFIXES mtd REQUIRED)
find_library(LIBMTD_LIB mtd REQUIRED)
find_library(LIBUBI_LIB ubi REQUIRED)
