# One app spanning several harts (user/rt/cores.h, user/cores): a dispatcher
# per hart in one address space, each core with its own thread-local block;
# the kernel's spanning rules; an app that ends on one hart ends on all.

# The console names harts by their platform id, which need not be the dense
# index (OpenSBI may boot from any hart), so those checks take any hart.
# init=cores@all: core 0 starts a core on every other hart; each checks its
# tp-addressed state is its own; a second core on a hart is refused (Busy);
# every core got the same hart features from the kernel (0x1: QEMU's default
# CPU has V); when core 0 exits the others end with it, everything is released once (the
# machine powers off after the last dispatcher). A bad hart range is refused.
ringlet_qemu_test(qemu.cores_span_4
  CHECKS --exit 0 --lacks PANIC --has "^cores: on hart 0, asked to run on harts 0xf$"
         --has "^cores: 4 of 4 cores up, hart features 0x1$" --has "^cores: spanning checks passed$"
         --has "^app cores \\(hart [0-3]\\) exited with code 0$"
         --count "^app cores \\(hart [0-3]\\) ended with its app$" 3
         --has "^init: app 'hello': no such hart index$" --has "^all apps done: powering off$"
  ARGS --smp 4 --append "shutdown init=cores@all,hello@2-9")

# Core 2 faults: the app ends on harts 0 and 1 as well, while the ticker on
# hart 3 keeps running to its end.
ringlet_qemu_test(qemu.cores_fault_ends_app
  CHECKS --exit 0 --lacks PANIC --has "^cores: 3 of 3 cores up, hart features 0x1$"
         --has "^app cores \\(hart [0-3]\\) killed: store/AMO page fault"
         --count "^app cores \\(hart [0-3]\\) ended with its app$" 2
         --has "^ticker: done$" --has "^app ticker \\(hart [0-3]\\) exited with code 0$"
         --has "^all apps done: powering off$"
  ARGS --smp 4 --append "shutdown init=cores:--fault:2@0-2,ticker:4@3")
