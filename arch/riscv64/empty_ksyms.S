/* Stage 1 of the kernel link: an empty symbol table (gen_ksyms.sh). */
    .section .ksyms, "a"
    .balign 8
    .globl ksyms_count, ksyms_addrs, ksyms_name_offsets, ksyms_names
ksyms_count: .dword 0
ksyms_addrs:
ksyms_name_offsets:
ksyms_names: .byte 0
