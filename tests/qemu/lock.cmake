# The kernel's locking (issue 15 item 3) and TLB shootdown targeting
# (issue 14), with user/lockcheck.

# Under -icount a round trip is exact in instructions. lockcheck on hart 0
# measures wait and cap_identify + wait round trips while another app on
# hart 1 loops frame_alloc of 4 MiB + cap_delete (the most one call takes).
# Bound: 5,000 instructions for the longest round trip beside the loop; it
# measured 141 (wait) and 1,117 (cap call + wait), the same as alone (881
# alone with the former single lock). With that lock, cap_identify waited
# for frame_alloc, which held it while zeroing 4 MiB: under -icount the
# waiting hart spun and never let the holder run, so this test did not
# finish in 120 s (on hardware the wait would be the zeroing, at least
# 524,288 stores). The app exits 1 above the bound. The hog unmaps the page
# it shares with lockcheck before it ends: no remote shootdown at all.
ringlet_qemu_test(qemu.lock_contend
  CHECKS --exit 0 --lacks PANIC
         --has "^lockcheck: alone: longest wait round trip [0-9]+, cap call \\+ wait [0-9]+ instructions$"
         --has "^lockcheck: beside [0-9]+ frame_alloc of 4 MiB on hart 1: .*\\(bound 5000\\)$"
         --has "^lockcheck: contention within the bound$" --has "^lockcheck: hog done after [0-9]+ allocations$"
         --has "^tlb: 0 remote shootdown IPIs sent$" --has "^all apps done: powering off$"
  ARGS --smp 2 --icount --append "shutdown init=lockcheck:contend:5000@0")

# A shootdown goes only to the harts where the address space is live (the
# domain's member_harts): 100 unmaps by an app alone on hart 0 send no IPI
# (before: one to every other hart, 100 here); the same app spanning harts 0
# and 1 sends exactly one per unmap.
ringlet_qemu_test(qemu.lock_shootdown_local
  CHECKS --exit 0 --lacks PANIC --has "^lockcheck: 100 unmaps done$"
         --has "^tlb: 0 remote shootdown IPIs sent$"
  ARGS --smp 2 --append "shutdown init=lockcheck:unmap:100@0,hello@1")
ringlet_qemu_test(qemu.lock_shootdown_span
  CHECKS --exit 0 --lacks PANIC --has "^lockcheck: 100 unmaps done \\(spanning harts 0 and 1\\)$"
         --has "^tlb: 100 remote shootdown IPIs sent$"
  ARGS --smp 2 --append "shutdown init=lockcheck:unmap:100:span@0-1")

# The loader maps an app's segments in as few physically contiguous pieces
# as fragmentation allows (kernel/app_loader.cc, FrameAllocator::alloc_pieces):
# lockcheck fills RAM with frames and gives every other 1 MiB back, so no
# free run is longer than 256 pages (a frame_alloc of 257 is refused), then
# starts hello, whose data segment (its 1 MiB heap) is 257 pages. Before,
# each segment had to be one run and the start failed with OutOfMemory.
ringlet_qemu_test(qemu.loader_fragmented
  CHECKS --exit 0 --lacks PANIC
         --has "^lockcheck: fragment: [0-9]+ frames, [0-9]+ of 1 MiB .* a run of 257 pages: OutOfMemory$"
         --has "^hello from U-mode on hart index 0$" --has "^lockcheck: fragment: hello loaded in pieces$"
         --has "^app lockcheck \\(hart [0-9]+\\) exited with code 0$"
  ARGS --smp 1 --mem 64M --append "shutdown app_mem=64 init=lockcheck:fragment")
