#!/bin/sh
# gen_ksyms.sh NM ELF OUT.S        - write the kernel symbol table for ELF
# gen_ksyms.sh --check NM A.elf B.elf - fail unless A and B place all text alike
#
# The kernel is linked twice: stage 1 with an empty table, stage 2 with the
# table of stage 1's text symbols. .ksyms sits after all text (linker.ld), and
# the kernel is built with -mno-relax, so text addresses cannot move; --check
# proves it on every build.
set -eu
text_syms() { "$1" -n -C --defined-only "$2" | awk '$2 ~ /^[tTwW]$/ && $3 !~ /^\.L/'; }

if [ "$1" = "--check" ]; then
  a=$(mktemp); b=$(mktemp)
  text_syms "$2" "$3" >"$a"; text_syms "$2" "$4" >"$b"
  if ! cmp -s "$a" "$b"; then
    echo "gen_ksyms: text moved between link stages" >&2; diff "$a" "$b" | head >&2; rm -f "$a" "$b"; exit 1
  fi
  rm -f "$a" "$b"; exit 0
fi

nm=$1 elf=$2 out=$3
text_syms "$nm" "$elf" | awk '
  { addr = $1; $1 = ""; $2 = ""; sub(/^ +/, ""); if (addr == last) next; last = addr
    gsub(/\\/, "\\\\"); gsub(/"/, "\\\"")
    a[n] = addr; s[n] = $0; n++ }
  END {
    print "    .section .ksyms, \"a\""
    print "    .balign 8"
    print "    .globl ksyms_count"
    print "ksyms_count: .dword " n
    print "    .globl ksyms_addrs"
    print "ksyms_addrs:"
    for (i = 0; i < n; i++) print "    .dword 0x" a[i]
    print "    .globl ksyms_name_offsets"
    print "ksyms_name_offsets:"
    off = 0
    for (i = 0; i < n; i++) { print "    .word " off; off += length(s[i]) + 1 }
    print "    .globl ksyms_names"
    print "ksyms_names:"
    for (i = 0; i < n; i++) print "    .asciz \"" s[i] "\""
  }' >"$out"
