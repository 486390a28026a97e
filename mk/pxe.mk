# pxe.mk: `make pxe` writes build/pxe/: the TFTP tree a PXE boot serves (build/pxe/tftp:
# GRUB's BIOS and UEFI network images, boot/grub-pxe.cfg as its grub.cfg, the kernel and
# the userland archive) and sample dnsmasq configurations for it (build/pxe/dnsmasq.conf,
# build/pxe/dnsmasq-proxy.conf). PXE_APPEND="KEYS" puts kernel keys for every machine into
# the tree (site.cfg; without it site.cfg is left as it is). PXE_SERVER=IP builds GRUB's
# images with that TFTP server in them, as proxy DHCP needs. Per-machine keys:
# scripts/pxe.sh mac build/pxe/tftp MAC "KEYS". See docs/pxe.md.
# Always rewritten (a fraction of a second): the keys are not something make can see.
PXE_DIR := $(B)/pxe
PXE_APPEND ?=
PXE_SERVER ?=

pxe: $(B)/shoal.elf $(B)/userland.cpio
	@echo "  PXE     $(PXE_DIR)"
	@./scripts/pxe.sh root $(PXE_DIR)/tftp --kernel $(B)/shoal.elf --cpio $(B)/userland.cpio \
		$(if $(PXE_APPEND),--append "$(PXE_APPEND)") $(if $(PXE_SERVER),--server $(PXE_SERVER))
	@./scripts/pxe.sh samples $(PXE_DIR) $(PXE_DIR)/tftp

.PHONY: pxe
