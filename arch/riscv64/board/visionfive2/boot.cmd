# Ringlet boot script for U-Boot: the VisionFive 2's, and QEMU's
# qemu-riscv64_smode build, which the ctest test board.uboot_boot runs.
# Compiled by scripts/flash-visionfive.sh:
#   mkimage -A riscv -O linux -T script -C none -d boot.cmd boot.scr
#
# Who runs it: mainline U-Boot's distro boot (it finds boot.scr on the
# bootable partition and sets devtype, devnum and distro_bootpart), or the
# StarFive vendor U-Boot through uEnv.txt's uenvcmd. Both U-Boots set
# kernel_addr_r and ramdisk_addr_r; neither address is assumed here.
#
# flash-visionfive.sh puts one line before this text:
#   setenv ringlet_default_bootargs '<the --bootargs given when the image was built>'
# A ringlet_bootargs variable set at the U-Boot prompt (and saveenv'd) wins.

# Where the files are: distro boot's variables, else the SD card (mmc 1 on
# the VisionFive 2) partition 3, the FAT partition flash-visionfive.sh makes.
if test -z "${devtype}"; then setenv devtype mmc; fi
if test -z "${devnum}"; then setenv devnum 1; fi
if test -z "${distro_bootpart}"; then setenv distro_bootpart 3; fi
setenv ringlet_dev "${devtype} ${devnum}:${distro_bootpart}"
echo "Ringlet: booting from ${ringlet_dev}"

if env exists ringlet_bootargs; then
	setenv bootargs "${ringlet_bootargs}"
else
	setenv bootargs "${ringlet_default_bootargs}"
fi
echo "Ringlet: bootargs [${bootargs}]"

# The kernel: an uncompressed Image with the Linux RISC-V header. booti moves
# it to the start of RAM + text_offset (0x200000) if it is not there already.
if load ${devtype} ${devnum}:${distro_bootpart} ${kernel_addr_r} Image; then
	echo "Ringlet: Image loaded at ${kernel_addr_r}"
else
	echo "Ringlet: cannot load Image from ${ringlet_dev}"
	exit
fi

# The initrd (a cpio archive of the apps) is optional. booti needs the raw
# file's address and size, and the size must be taken before the next load.
setenv ringlet_initrd "-"
if test -e ${devtype} ${devnum}:${distro_bootpart} initrd.cpio; then
	if load ${devtype} ${devnum}:${distro_bootpart} ${ramdisk_addr_r} initrd.cpio; then
		setenv ringlet_initrd "${ramdisk_addr_r}:${filesize}"
	fi
fi
echo "Ringlet: initrd ${ringlet_initrd}"

# The device tree: ringlet.dtb from the boot partition if there is one (a
# board tree you supply), else the one U-Boot itself runs on, which describes
# the board (QEMU's own tree under QEMU). U-Boot adds /chosen (bootargs,
# initrd) and copies OpenSBI's /reserved-memory into it at booti time.
if test -e ${devtype} ${devnum}:${distro_bootpart} ringlet.dtb; then
	load ${devtype} ${devnum}:${distro_bootpart} ${fdt_addr_r} ringlet.dtb
	setenv ringlet_fdt ${fdt_addr_r}
else
	setenv ringlet_fdt ${fdtcontroladdr}
fi
echo "Ringlet: device tree at ${ringlet_fdt}"

booti ${kernel_addr_r} ${ringlet_initrd} ${ringlet_fdt}
echo "Ringlet: booti returned; the Image or the device tree was refused"
