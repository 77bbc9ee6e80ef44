#!/bin/bash
# Cold pull of a ~100 MB, 6-layer image from a local registry: `skiff pull`
# against `podman pull`, and against the floor, curl fetching the blobs and
# tar extracting them in the same run.  Every run, timed or warm-up, goes
# into a new empty directory; all are removed at the end.
#
#   bash bench/pull.sh [RUNS]          (default 5)
#
# The image (built here, without skiff, with tests/system/helpers.bash, and
# pushed with skopeo to docker-registry on 127.0.0.1), gzip layers:
#   1. the busybox fixture rootfs
#   2. 5000 small text files of 1 to 8 KiB in 50 directories
#   3. three 10 MiB files of random bytes (do not compress)
#   4. two 12 MiB files of base64 text (compress to about 3/4)
#   5. two 15 MiB random files and a small tree, owned by 1000:1000
#   6. a whiteout of one layer-3 file and two small files
#
# The contenders, each run in turn in every round (the order rotates):
#   skiff         skiff --root R pull -q REF
#   podman        podman --root R --storage-driver overlay pull -q
#                 --tls-verify=false REF (its pause process is kept between
#                 runs, as it is between a user's commands); the ratios
#                 and the target are against this one
#   podman-vfs    the same with --storage-driver vfs, what rootless podman
#                 4.3 picks here without a storage.conf
#   floor         inside `skiff unshare`: curl the manifest and config, then
#                 per layer `curl | tar -xz` into a directory, all layers at
#                 once (download and extraction overlapped, no digest checks)
#   floor-2phase  the same, but first every blob to a file with one
#                 `curl --parallel`, then one `tar -xzf` per layer in parallel
#
# Run it as an unprivileged user with /etc/subuid and /etc/subgid ranges; as
# root it runs itself as BENCH_USER (default skifftest, the user
# tests/run-tests.sh creates).  SKIFF names the binary (default: build/skiff
# next to this script, else skiff on PATH).  Needs podman, runc, skopeo,
# docker-registry, curl and jq (tests/install-deps.sh --bench).  BENCH_DIR
# is where the stores go (default /tmp; /dev/shm takes the disk out).
set -euo pipefail

runs=${1:-5}
[[ $runs =~ ^[1-9][0-9]*$ ]] || {
	echo "usage: $0 [RUNS]" >&2
	exit 2
}
# shellcheck source=bench/lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
bench_init --helpers podman skopeo docker-registry curl jq
bench_as_user BENCH_DIR -- "$runs"

# ---------------------------------------------------------------------------
# Private state: stores, runtime and configuration directories, podman's
# and skopeo's configuration; the user's own are not touched.
#
# Every run gets a new directory under $work/runs, and nothing is removed
# before the end.  On ext4 without a journal (this benchmark's machine) the
# inode allocator skips, one by one, the inodes freed in the last 60 s (360 s
# while their inode table block is dirty): unpacking 5000 files into a
# block group where 5000 were just deleted costs seconds of system time, a
# cost that would land on whichever contender runs after a removal.  The
# TOPDIR attribute on $work/runs makes ext4 spread the run directories over
# block groups (the Orlov allocator), away from recently freed inodes.

work=$(mktemp -d "${BENCH_DIR:-/tmp}/skiff-bench-pull.XXXXXX")
# podman refuses a --runroot longer than 50 characters.
runroots=$(mktemp -d /tmp/skiff-bench-rr.XXXXXX)
bench_setup "$work/xdg" "$work" "$runroots"
mkdir -m 0700 "$work/runs"
chattr +T "$work/runs" 2>/dev/null || true

# Each run's store stays until the end: about 130 MB per run and contender.
need_mb=$(((runs + 1) * 5 * 130 + 300))
avail_mb=$(df -Pm "$work" | awk 'NR == 2 { print $4 }')
[[ $avail_mb -ge $need_mb ]] || {
	echo "pull.sh: $work has $avail_mb MB free, needs about $need_mb MB (set BENCH_DIR)" >&2
	exit 1
}

# ---------------------------------------------------------------------------
# The image

# Print SIZE bytes of base64 text (76 columns), from random bytes.
text_bytes() {
	head -c "$(($1 * 3 / 4))" /dev/urandom | base64 -w 76
}

build_bench_image() {
	local layout=$1 src=$work/src mib=$((1024 * 1024)) i
	mkdir -p "$src"

	fixture_busybox_rootfs "$src/l1"
	layer_tar "$src/l1.tar" "$src/l1"

	# 5000 files of 1 to 8 KiB: pieces of a 2 MiB pool of text at random
	# offsets, so that each file is different.
	mkdir -p "$src/l2/usr/share/bench-small"
	text_bytes $((2 * mib)) >"$src/pool"
	perl -e '
		my ($pool_file, $root) = @ARGV;
		open my $p, "<", $pool_file or die "$pool_file: $!";
		local $/; my $pool = <$p>; close $p;
		srand 42;
		for my $d (0 .. 49) {
			my $dir = sprintf "%s/d%02d", $root, $d;
			mkdir $dir or die "$dir: $!";
			for my $f (0 .. 99) {
				my $n = 1024 + int rand 7169;
				my $off = int rand(length($pool) - $n);
				open my $o, ">", sprintf("%s/f%03d.txt", $dir, $f) or die "$dir: $!";
				print $o substr($pool, $off, $n);
				close $o;
			}
		}' "$src/pool" "$src/l2/usr/share/bench-small"
	chmod -R u=rwX,go=rX "$src/l2"
	layer_tar "$src/l2.tar" "$src/l2"

	mkdir -p "$src/l3/opt/bench-random"
	for i in 1 2 3; do
		head -c $((10 * mib)) /dev/urandom >"$src/l3/opt/bench-random/blob$i.bin"
	done
	chmod -R u=rwX,go=rX "$src/l3"
	layer_tar "$src/l3.tar" "$src/l3"

	mkdir -p "$src/l4/opt/bench-text"
	for i in 1 2; do
		text_bytes $((12 * mib)) >"$src/l4/opt/bench-text/text$i.txt"
	done
	chmod -R u=rwX,go=rX "$src/l4"
	layer_tar "$src/l4.tar" "$src/l4"

	mkdir -p "$src/l5/home/app/data" "$src/l5/home/app/etc"
	for i in 1 2; do
		head -c $((15 * mib)) /dev/urandom >"$src/l5/home/app/data/part$i.bin"
	done
	for i in $(seq 1 20); do
		echo "setting$i = $i" >"$src/l5/home/app/etc/conf$i"
	done
	chmod -R u=rwX,go=rX "$src/l5"
	layer_tar "$src/l5.tar" "$src/l5" --owner=1000 --group=1000

	mkdir -p "$src/l6/opt/bench-random" "$src/l6/etc"
	: >"$src/l6/opt/bench-random/.wh.blob3.bin"
	echo "skiff pull benchmark" >"$src/l6/etc/motd"
	echo "bench" >"$src/l6/etc/hostname"
	chmod -R u=rwX,go=rX "$src/l6"
	layer_tar "$src/l6.tar" "$src/l6"

	OCI_IMAGE_CONFIG='{"Labels":{"org.skiff.bench":"pull"}}' \
		oci_add_image "$layout" big "$src"/l{1,2,3,4,5,6}.tar
	rm -rf "$src"
}

# ---------------------------------------------------------------------------
# The floor: what plain tools need to fetch and unpack the same layers.

write_floor_script() {
	cat >"$work/floor.sh" <<'EOF'
#!/bin/bash
# floor.sh MODE BASE_URL REPO TAG DEST   (MODE: stream or 2phase)
set -euo pipefail
mode=$1 base=$2 repo=$3 tag=$4 dest=$5
accept='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json'
mkdir -p "$dest"
manifest=$(curl -sfS -H "Accept: $accept" "$base/v2/$repo/manifests/$tag")
config=$(jq -r .config.digest <<<"$manifest")
mapfile -t layers < <(jq -r '.layers[].digest' <<<"$manifest")
curl -sfS -o "$dest/config.json" "$base/v2/$repo/blobs/$config"
case $mode in
stream)
	pids=()
	for i in "${!layers[@]}"; do
		mkdir "$dest/$i"
		(curl -sfSL "$base/v2/$repo/blobs/${layers[$i]}" | tar -xzf - -C "$dest/$i") &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid"; done
	;;
2phase)
	args=()
	for i in "${!layers[@]}"; do
		args+=(-o "$dest/$i.tar.gz" "$base/v2/$repo/blobs/${layers[$i]}")
	done
	curl -sfSL --parallel --parallel-max 6 "${args[@]}"
	pids=()
	for i in "${!layers[@]}"; do
		mkdir "$dest/$i"
		tar -xzf "$dest/$i.tar.gz" -C "$dest/$i" &
		pids+=($!)
	done
	for pid in "${pids[@]}"; do wait "$pid"; done
	rm -f "$dest"/*.tar.gz
	;;
esac
EOF
}

# ---------------------------------------------------------------------------
# Timing

# The command line of contender $1 with its store in directory $2 and its
# runroot $3.
command_of() {
	local d=$2 rr=$3
	case $1 in
	skiff)
		echo "$SKIFF --root $d/root --runroot $rr pull -q $ref"
		;;
	podman)
		echo "podman --root $d/root --runroot $rr --storage-driver overlay pull -q --tls-verify=false $ref"
		;;
	podman-vfs)
		echo "podman --root $d/root --runroot $rr --storage-driver vfs pull -q --tls-verify=false $ref"
		;;
	floor)
		echo "$SKIFF --root $work/floor-root --runroot $work/floor-run unshare bash $work/floor.sh stream http://$REGISTRY_ADDR bench/big latest $d/out"
		;;
	floor-2phase)
		echo "$SKIFF --root $work/floor-root --runroot $work/floor-run unshare bash $work/floor.sh 2phase http://$REGISTRY_ADDR bench/big latest $d/out"
		;;
	esac
}

# One cold run of contender $1 in a new directory, timed with bash's
# `time`, which also counts the CPU time of the children waited for.
# Appends "WALL USER+SYS SYS" (seconds) to $work/times.$1; last[$1] is the
# directory, last_rr[$1] the runroot.
declare -A last last_rr
run_once() {
	local name=$1 cmd rc=0 TIMEFORMAT='%3R %3U %3S'
	last[$name]=$(mktemp -d "$work/runs/$name.XXXXXX")
	last_rr[$name]=$(mktemp -d "$runroots/XXXXXX")
	cmd=$(command_of "$name" "${last[$name]}" "${last_rr[$name]}")
	# Earlier runs' pages are written back now, not during this run.
	sync
	# shellcheck disable=SC2086 # the command is split on purpose
	{ time $cmd >"$work/out.$name" 2>&1 || rc=$?; } 2>"$work/time.out"
	if [[ $rc -ne 0 ]]; then
		echo "pull.sh: '$cmd' failed (exit code $rc):" >&2
		cat "$work/out.$name" >&2
		exit 1
	fi
	awk '{ printf "%s %.3f %s\n", $1, $2 + $3, $3 }' "$work/time.out" >>"$work/times.$name"
}

# The last runs must have stored what was pushed, or their times mean
# nothing.
check_results() {
	local n_small n_podman
	n_small=$(find "${last[floor]}/out/1" -type f | wc -l)
	[[ $n_small -eq 5000 ]] || {
		echo "pull.sh: floor extracted $n_small small files, expected 5000" >&2
		exit 1
	}
	if ! "$SKIFF" --root "${last[skiff]}/root" --runroot "${last_rr[skiff]}" \
		images >"$work/check" 2>&1 || ! grep -q 'bench/big' "$work/check"; then
		echo "pull.sh: skiff images does not list the pulled image:" >&2
		cat "$work/check" >&2
		exit 1
	fi
	n_podman=$(podman --root "${last[podman]}/root" --runroot "${last_rr[podman]}" \
		--storage-driver overlay images -q | wc -l)
	[[ $n_podman -eq 1 ]] || {
		echo "pull.sh: podman images lists $n_podman images, expected 1" >&2
		exit 1
	}
}

# Disk space a store took, in MiB (read inside the user namespace: some
# directories belong to subordinate IDs).
store_mib() {
	bench_unshare du -sm "$1" 2>/dev/null | cut -f1
}

# Where skiff's time goes, from one more cold pull with --log-level debug:
# each message is stamped when it arrives.  The phases follow the messages
# of src/image_pull.c; when those change, the line says so.
skiff_phases() {
	local d rr t0 t1 line
	d=$(mktemp -d "$work/runs/skiff-debug.XXXXXX")
	rr=$(mktemp -d "$runroots/XXXXXX")
	sync
	t0=$EPOCHREALTIME
	"$SKIFF" --root "$d/root" --runroot "$rr" --log-level debug pull "$ref" 2>&1 |
		while IFS= read -r line; do
			echo "$EPOCHREALTIME $line"
		done >"$work/debug.log"
	t1=$EPOCHREALTIME
	awk -v t0="$t0" -v t1="$t1" '
		/Getting image source signatures/ { sig = $1 }
		/debug: blob .* bytes in/ { blob = $1 }
		/Copying config/ { cfg = $1 }
		/ extracted in [0-9]+ ms/ {
			last = $1; match($0, /in [0-9]+ ms/)
			per = per sprintf(" %d", substr($0, RSTART + 3, RLENGTH - 6)) }
		/Writing manifest/ { wm = $1 }
		END {
			if (!sig || !blob || !cfg || !last || !wm) {
				print "skiff phases: the debug messages changed; see a run with --log-level debug"
				exit
			}
			printf "skiff phases (ms, one debug run of %d): setup and manifest %d, blob downloads %d,\n",
				(t1 - t0) * 1000, (sig - t0) * 1000, (blob - sig) * 1000
			printf "  blob commits %d, layer extraction %d (per layer:%s), layer commits and image %d\n",
				(cfg - blob) * 1000, (last - cfg) * 1000, per, (t1 - last) * 1000 }' "$work/debug.log"
}

# ---------------------------------------------------------------------------
# Main

echo "pull.sh: building the image ($work)" >&2
# shellcheck disable=SC2119 # no arguments: plain HTTP, no auth
start_registry
build_bench_image "$work/layout"
ref=$REGISTRY_ADDR/bench/big:latest
push_image "$work/layout" big "$ref"
rm -rf "$work/layout"
bench_registries_conf
write_floor_script

manifest=$(registry_manifest bench/big latest)
n_layers=$(jq '.layers | length' <<<"$manifest")
compressed=$(jq '[.layers[].size] | add' <<<"$manifest")

contenders=(skiff podman podman-vfs floor floor-2phase)
echo "pull.sh: warm-up run of each, then $runs timed rounds" >&2
for name in "${contenders[@]}"; do
	run_once "$name"
	rm -f "$work/times.$name"
done
uncompressed=$(du -sb --apparent-size "${last[floor]}/out" | cut -f1)
check_results

for ((r = 0; r < runs; r++)); do
	for ((i = 0; i < ${#contenders[@]}; i++)); do
		run_once "${contenders[(r + i) % ${#contenders[@]}]}"
	done
	echo "pull.sh: round $((r + 1))/$runs done" >&2
done
check_results

declare -A wall cpu sys
for name in "${contenders[@]}"; do
	wall[$name]=$(cut -d' ' -f1 "$work/times.$name" | bench_median)
	cpu[$name]=$(cut -d' ' -f2 "$work/times.$name" | bench_median)
	sys[$name]=$(cut -d' ' -f3 "$work/times.$name" | bench_median)
done

echo
echo "Cold pull of $ref: $n_layers gzip layers, $((compressed / 1024 / 1024)) MiB compressed,"
echo "$((uncompressed / 1024 / 1024)) MiB unpacked; $runs timed runs each after one warm-up, each into an empty store."
bench_host
echo
printf '%-13s %9s %9s %9s %9s %9s %8s %8s\n' contender 'wall med' 'wall min' 'wall max' \
	'cpu med' 'sys med' '/podman' '/floor'
for name in "${contenders[@]}"; do
	sort -g "$work/times.$name" | awk -v name="$name" -v w="${wall[$name]}" -v c="${cpu[$name]}" \
		-v s="${sys[$name]}" -v p="${wall[podman]}" -v f="${wall[floor]}" '
		NR == 1 { min = $1 } { max = $1 }
		END { printf "%-13s %8.2fs %8.2fs %8.2fs %8.2fs %8.2fs %8.2f %8.2f\n",
			name, w, min, max, c, s, w / p, w / f }'
done
echo
echo "wall: elapsed seconds; cpu: user+system seconds of the command and the"
echo "children it waited for (sys: the system part); /podman and /floor: ratios"
echo "of wall medians.  Wall above cpu means waiting: for the disk, the"
echo "registry, or CPUs that other processes are using."
echo "disk used by one pull: skiff $(store_mib "${last[skiff]}") MiB, podman $(store_mib "${last[podman]}") MiB, floor $(store_mib "${last[floor]}") MiB"
# Line N of each times file is round N: the same moment for all contenders,
# so the per-round ratios are less sensitive to load that comes and goes.
for other in podman floor; do
	paste -d' ' "$work/times.skiff" "$work/times.$other" |
		awk '{ print $1 / $4 }' | sort -g | awk -v o="$other" '{ v[NR] = $1 } END {
		printf "skiff/%s per round: median %.2f, range %.2f to %.2f\n", o,
			(NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2), v[1], v[NR] }'
done
skiff_phases
awk -v s="${wall[skiff]}" -v p="${wall[podman]}" -v f="${wall[floor]}" 'BEGIN {
	printf "target: skiff <= 0.5 x podman: %s (%.2f); skiff close to the floor: %.2f x floor\n",
		(s <= 0.5 * p ? "met" : "missed"), s / p, s / f }'
