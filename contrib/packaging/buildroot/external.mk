include $(sort $(wildcard $(BR2_EXTERNAL_SYSUPGRADED_PATH)/*/*.mk))
