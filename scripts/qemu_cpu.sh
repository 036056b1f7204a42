# The QEMU CPU Ringlet boots on by default (machine virt), sourced by
# run-qemu.sh and the benchmarks, which give the Linux guest the same one:
# QEMU 7.2's rv64 with the vector unit (RVV 1.0, VLEN 128). The kernel hands
# V to the apps and the libOS sums checksums with it; Linux 6.1 has no V
# support (it came in 6.5) and runs as on plain rv64. `--cpu rv64` (or
# RINGLET_QEMU_CPU=rv64) boots a CPU without V, like the VisionFive 2's U74.
RINGLET_QEMU_CPU=${RINGLET_QEMU_CPU:-rv64,v=true,vext_spec=v1.0,vlen=128,elen=64}
