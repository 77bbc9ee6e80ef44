#!/bin/bash
# skiff's main job on a machine without internet: make an image locally from
# the busybox-static package, then run a rootless container from it.  Run as
# an unprivileged user with subordinate ID ranges (README, command (a)).
set -euo pipefail

skiff=${SKIFF:-skiff}
work=$(mktemp -d "${TMPDIR:-/tmp}/skiff-quickstart.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A root filesystem: the static busybox and a link for each of its applets.
mkdir -p "$work/rootfs/bin" "$work/rootfs/etc" "$work/rootfs/tmp" "$work/rootfs/root"
cp /bin/busybox "$work/rootfs/bin/busybox"
for applet in $(/bin/busybox --list); do
	[ -e "$work/rootfs/bin/$applet" ] || ln -s busybox "$work/rootfs/bin/$applet"
done
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
	>"$work/rootfs/etc/passwd"
printf 'root:x:0:\nnobody:x:65534:\n' >"$work/rootfs/etc/group"
tar -C "$work/rootfs" -cf "$work/rootfs.tar" .

"$skiff" import --change 'CMD ["sh"]' "$work/rootfs.tar" localhost/busybox:quickstart
"$skiff" run --rm localhost/busybox:quickstart sh -c \
	'echo "hello from a rootless skiff container: $(id -un) in $(hostname), pid $$"'
"$skiff" rmi localhost/busybox:quickstart >/dev/null
