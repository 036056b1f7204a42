#!/bin/sh
# make_test_initrd.sh OUT.cpio APP.elf: a newc archive like a real initrd, with
# the app, a directory and a file inside it (names as `find` prints them).
set -eu
out=$1 app=$2
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
cp "$app" "$stage/tiny_app"
mkdir "$stage/etc"
printf 'hello\n' >"$stage/etc/motd"
cd "$stage"
printf 'tiny_app\netc\netc/motd\n' | cpio --quiet -o -H newc >"$out"
