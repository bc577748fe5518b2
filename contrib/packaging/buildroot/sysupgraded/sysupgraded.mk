################################################################################
#
# sysupgraded
#
################################################################################

SYSUPGRADED_VERSION = 0.1.0
# This BR2_EXTERNAL tree is contrib/packaging/buildroot of a checkout;
# the source is that checkout (or SYSUPGRADED_OVERRIDE_SRCDIR).
SYSUPGRADED_SITE = $(realpath $(BR2_EXTERNAL_SYSUPGRADED_PATH)/../../..)
SYSUPGRADED_SITE_METHOD = local
SYSUPGRADED_LICENSE = GPL-2.0+
# libmtd and libubi from the mtd package's staging install
# (MTD_INSTALL_LIBS in package/mtd/mtd.mk); checked before configuring.
SYSUPGRADED_DEPENDENCIES = host-pkgconf gnutls inih json-c libarchive \
	libmicrohttpd libubootenv mbedtls mtd nettle
SYSUPGRADED_CONF_OPTS = -DBUILD_TESTING=OFF

define SYSUPGRADED_CHECK_MTD_LIBS
	@for f in libmtd.a libubi.a; do \
		[ -f $(STAGING_DIR)/usr/lib/$$f ] || { \
			echo "sysupgraded: no $$f in $(STAGING_DIR)/usr/lib: this Buildroot's mtd package does not install libmtd/libubi to staging (contrib/packaging/README.md, Buildroot)" >&2; \
			exit 1; }; \
	done
	@[ -f $(STAGING_DIR)/usr/include/libmtd.h ] || \
	[ -f $(STAGING_DIR)/usr/include/mtd/libmtd.h ] || { \
		echo "sysupgraded: no libmtd.h in $(STAGING_DIR)/usr/include (contrib/packaging/README.md, Buildroot)" >&2; \
		exit 1; }
endef
SYSUPGRADED_PRE_CONFIGURE_HOOKS += SYSUPGRADED_CHECK_MTD_LIBS

# /etc/sysupgraded.conf: the example without its token
# (contrib/packaging/conffile.sh); edit it in a rootfs overlay.
define SYSUPGRADED_INSTALL_CONF
	$(INSTALL) -d -m 0755 $(TARGET_DIR)/etc
	sh $(@D)/contrib/packaging/conffile.sh $(@D)/contrib/sysupgraded.conf \
		> $(TARGET_DIR)/etc/sysupgraded.conf
	chmod 0644 $(TARGET_DIR)/etc/sysupgraded.conf
endef
SYSUPGRADED_POST_INSTALL_TARGET_HOOKS += SYSUPGRADED_INSTALL_CONF

ifneq ($(BR2_PACKAGE_SYSUPGRADED_BUNDLE_TOOL),y)
define SYSUPGRADED_REMOVE_BUNDLE_TOOL
	rm -f $(TARGET_DIR)/usr/bin/sysupgrade-bundle
endef
SYSUPGRADED_POST_INSTALL_TARGET_HOOKS += SYSUPGRADED_REMOVE_BUNDLE_TOOL
endif

# systemd: the unit comes with `make install` (cmake/Install.cmake, in
# /usr/lib/systemd/system); it is enabled by the image's presets or
# overlay, once /etc/sysupgraded.conf is the device's.

# OpenRC: contrib/init/openrc's init script and conf.d.
define SYSUPGRADED_INSTALL_INIT_OPENRC
	$(INSTALL) -D -m 0755 $(@D)/contrib/init/openrc/sysupgraded \
		$(TARGET_DIR)/etc/init.d/sysupgraded
	$(INSTALL) -D -m 0644 $(@D)/contrib/init/openrc/sysupgraded.confd \
		$(TARGET_DIR)/etc/conf.d/sysupgraded
endef

$(eval $(cmake-package))
