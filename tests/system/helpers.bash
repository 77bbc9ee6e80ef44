# Shared setup for skiff's system tests (bats).  Every .bats file starts with
# `load helpers`.  The tests run the real binary as an unprivileged user
# against a real registry (Debian's docker-registry) with images built here,
# without skiff, from the busybox-static package.  Tests that need a real
# systemd user manager also `load systemd_user` (systemd_user.bash).
#
# Environment
#   SKIFF              the binary under test (default: `skiff` on PATH)
#   SKIFF_TEST_KEEP=1  keep each test's directory for debugging (path printed)
#   BUSYBOX            the static busybox for fixtures (default /bin/busybox)
#
# Per test (the default setup/teardown below call these; a file that defines
# its own setup or teardown calls them from there):
#   skiff_setup        makes SKIFF_TEST_DIR, a private directory, with
#                      SKIFF_ROOT and SKIFF_RUNROOT (the store run_skiff
#                      uses) and private XDG_RUNTIME_DIR, XDG_DATA_HOME and
#                      XDG_CONFIG_HOME, so nothing touches the user's own
#   skiff_teardown     removes SKIFF_TEST_DIR, also after a failure, also
#                      when it holds files owned by subordinate IDs
#   remove_tree DIR    that removal, for other directories
#
# Running skiff
#   run_skiff [--separate-stderr] [RC] ARGS...
#                      `run` skiff with --root/--runroot; fails the test
#                      unless the exit code is RC (default 0, '?' for any).
#                      Sets status, output, lines (and stderr).
#   run_skiff_bare [--separate-stderr] [RC] ARGS...
#                      the same without --root/--runroot (for defaults)
#
# Assertions (each fails the test with a readable message)
#   die MESSAGE...
#   assert_equal ACTUAL EXPECTED [WHAT]
#   assert_match STRING ERE [WHAT]
#   assert_contains STRING SUBSTRING [WHAT]
#   assert_not_contains STRING SUBSTRING [WHAT]
#
# Subordinate IDs and modes
#   subid_ranges FILE      the current user's "START COUNT" lines in FILE
#                          (/etc/subuid or /etc/subgid), in file order
#   expected_id_map FILE ID
#                          the uid_map/gid_map skiff should write, one
#                          "INSIDE OUTSIDE COUNT" line each: 0 -> ID, then
#                          the ranges from 1 on
#   normalize_id_map       stdin -> stdout with the kernel's padding squeezed
#   require_rootless       skip when running as root
#   require_subids         skip unless the user has subuid and subgid ranges
#   require_no_subids      skip unless the user has neither
#
# Registry (one or more per file; the default teardown_file stops them all)
#   start_registry [--htpasswd FILE]
#                      starts docker-registry on a free 127.0.0.1 port with
#                      its own config and storage, waits until /v2/ answers,
#                      and exports REGISTRY_ADDR (127.0.0.1:PORT),
#                      REGISTRY_PORT, REGISTRY_DIR (its state: config.yml,
#                      log, pid, data/)
#   stop_registry [DIR]           stop one (default: REGISTRY_DIR)
#   stop_all_registries           stop every registry this file started
#   make_htpasswd FILE USER PASSWORD   bcrypt entry, as the registry wants
#   registry_curl PATH [CURL_ARGS...]  GET http://REGISTRY_ADDR/PATH; with
#                      REGISTRY_CREDS=user:password it sends basic auth
#   registry_manifest REPO REF    the manifest body, OCI or Docker schema 2
#   registry_manifest_digest REPO REF   its Docker-Content-Digest
#   registry_blob REPO DIGEST OUT fetch a blob into file OUT
#
# Images, built without skiff as OCI image layouts
#   fixture_busybox_rootfs DIR    /bin/busybox with a symlink per applet,
#                      /etc/passwd and /etc/group (root, nobody), /tmp, /root
#   layer_tar TAR DIR [TAR_ARGS...]
#                      create TAR (uncompressed) from DIR's contents,
#                      reproducibly: sorted, numeric owner 0:0 unless
#                      TAR_ARGS override, fixed mtime
#   layer_tar_append TAR DIR UID GID PATH...
#                      append PATHs of DIR to TAR owned by UID:GID
#   oci_add_image LAYOUT TAG TAR...
#                      compress the layer TARs (OCI_LAYER_COMPRESSION=gzip
#                      (default), zstd or none), write blobs, the config
#                      (host architecture, os linux, Cmd ["sh"], PATH; merge
#                      OCI_IMAGE_CONFIG, a JSON object, into its "config"),
#                      the manifest, and add TAG to index.json; sets
#                      OCI_MANIFEST_DIGEST and OCI_CONFIG_DIGEST
#   build_busybox_image LAYOUT [TAG]    one layer: the busybox rootfs
#   build_multilayer_image LAYOUT [TAG] two layers: the busybox rootfs plus
#                      /etc/skiff-fixture/old.txt and /opq/{a,b}; then a
#                      whiteout of old.txt, an opaque /opq with only c, and
#                      /etc/skiff-fixture/owned.txt mode 0640 owned 1000:1000
#   oci_manifest LAYOUT TAG       the manifest JSON stored for TAG
#   oci_blob_path LAYOUT DIGEST   the file holding a blob
#   oci_arch                      this host's architecture in OCI terms
#   push_image LAYOUT TAG REF     copy LAYOUT:TAG to docker://REF with skopeo
#                      (REF as 127.0.0.1:PORT/REPO:TAG; REGISTRY_CREDS for
#                      auth), never touching the user's containers config
#
# More registries and image surgery (for pulls that must fail or stall)
#   start_token_registry USER PASSWORD [--private PREFIX]
#                      a token service (fixtures/token-server.py) and a
#                      docker-registry that trusts its tokens: anonymous
#                      clients get "pull" outside PREFIX/, USER:PASSWORD
#                      gets everything; exports what start_registry does
#                      plus TOKEN_SERVER_ADDR and TOKEN_LOG (one line per
#                      token request: "ACCOUNT SCOPE... -> STATUS")
#   start_fake_registry LAYOUT [--stall-blobs]
#                      fixtures/fake-registry.py serving LAYOUT's bytes
#                      as they are (no checks), any repository name;
#                      exports FAKE_REGISTRY_ADDR and FAKE_REGISTRY_LOG.
#                      --stall-blobs: the first GET of each layer blob
#                      sends half of it and hangs
#   wait_for_file FILE PID         poll until FILE is non-empty (10 s at
#                      most); fails early when PID died
#   oci_set_manifest LAYOUT TAG FILE [MEDIATYPE]
#                      store FILE's bytes (any bytes) as a blob and point
#                      TAG at it; sets OCI_MANIFEST_DIGEST
#   oci_retarget_arch LAYOUT TAG ARCH
#                      rewrite TAG's config to say architecture ARCH (new
#                      config and manifest blobs, index platform too);
#                      sets OCI_MANIFEST_DIGEST and OCI_CONFIG_DIGEST
#   registry_put_manifest REPO REF FILE MEDIATYPE
#                      PUT FILE as a manifest (REGISTRY_CREDS honoured);
#                      prints the HTTP status
#   registry_push_verbatim LAYOUT TAG REPO REF
#                      upload TAG's blobs and manifest to REGISTRY_ADDR's
#                      REPO:REF byte for byte with curl (skopeo would
#                      compress an uncompressed layer)
#   python_getxattr PATH NAME     print xattr NAME of PATH (no symlink
#                      following), or nothing when it is not set
#
# Containers (20-26-*.bats; container_cases.bash holds the test bodies that
# the storage driver files 25-driver-vfs.bats and 26-driver-fuse.bats share
# with 20-run.bats and 21-detached.bats)
#   SKIFF_TEST_DRIVER  when set, run_skiff and skiff_cmd pass
#                      --storage-driver SKIFF_TEST_DRIVER (vfs,
#                      fuse-overlayfs; unset: skiff chooses, kernel overlay)
#   skiff_cmd ARGS...  skiff with the test's --root/--runroot (and driver),
#                      outside `run`: for $(...) and pipes
#   skiff_bg OUT ARGS...   the same in the background, stdout and stderr
#                      to file OUT, stdin from /dev/null; SKIFF_BG_PID is
#                      skiff's own PID (to signal it)
#   container_image_setup   (in setup_file) the busybox fixture pushed to
#                      a registry of this file; exports CTR_IMAGE, its
#                      reference, and CTR_IMAGE_ID
#   pull_ctr_image     pull CTR_IMAGE into this test's store
#   container_teardown   rm -f every container of this test's store (their
#                      monitors and processes end), then skiff_teardown
#   wait_until TRIES CMD...   run CMD every 0.1 s until it succeeds, TRIES
#                      times at most; fails the test naming CMD otherwise
#   ctr_status NAME    State.Status from inspect (nothing when unknown)
#   ctr_logs_contain NAME TEXT    whether `logs NAME` holds TEXT
#   ctr_state_file ID  the container's state.json in the test's store
#   pid_alive PID      whether PID lives and is not a zombie
#
# Networking (50-network.bats)
#   ctr_host_port NAME PORT/PROTO   the host port `skiff port` shows for it
#   ctr_monitor_pid NAME   the monitor's PID, from the container's state.json
#   proc_cpu_ticks PID     utime + stime of PID in clock ticks
#   proc_fd_count PID      the number of PID's open descriptors
#   http_get_ok PORT [PATH [PREFIX]]   whether GET http://127.0.0.1:PORT/PATH
#                      answers within 2 s with a body starting with PREFIX

# shellcheck disable=SC2154 # bats' run sets status, output and lines
SKIFF=${SKIFF:-$(command -v skiff || echo skiff)}
BUSYBOX=${BUSYBOX:-/bin/busybox}

# Outside bats (tests/system/fixtures/serve.sh) only the helpers are wanted.
if declare -F bats_require_minimum_version >/dev/null; then
	bats_require_minimum_version 1.5.0
fi

# ---------------------------------------------------------------------------
# Per-test directories

setup() {
	skiff_setup
}

teardown() {
	skiff_teardown
}

# A file that defines its own teardown_file calls stop_all_registries.
teardown_file() {
	stop_all_registries
}

skiff_setup() {
	SKIFF_TEST_DIR=$(mktemp -d "${BATS_TMPDIR:-/tmp}/skiff-test.XXXXXX")
	SKIFF_ROOT=$SKIFF_TEST_DIR/root
	SKIFF_RUNROOT=$SKIFF_TEST_DIR/runroot
	export XDG_RUNTIME_DIR=$SKIFF_TEST_DIR/xdg-run
	export XDG_DATA_HOME=$SKIFF_TEST_DIR/xdg-data
	export XDG_CONFIG_HOME=$SKIFF_TEST_DIR/xdg-config
	mkdir -m 0700 "$XDG_RUNTIME_DIR" "$XDG_DATA_HOME" "$XDG_CONFIG_HOME"
}

skiff_teardown() {
	[[ -n ${SKIFF_TEST_DIR-} ]] || return 0
	if [[ -n ${SKIFF_TEST_KEEP-} ]]; then
		echo "# kept $SKIFF_TEST_DIR" >&3
		return 0
	fi
	remove_tree "$SKIFF_TEST_DIR"
}

# Files that skiff made inside a user namespace may belong to subordinate
# IDs, or sit in directories without write permission; only a process in
# the same kind of namespace can remove those.
remove_tree() {
	local dir=$1 scratch
	[[ -e $dir ]] || return 0
	rm -rf "$dir" 2>/dev/null && return 0
	chmod -R u+rwX "$dir" 2>/dev/null || true
	rm -rf "$dir" 2>/dev/null && return 0
	scratch=$(mktemp -d "${BATS_TMPDIR:-/tmp}/skiff-rm.XXXXXX")
	"$SKIFF" --root "$scratch/root" --runroot "$scratch/run" \
		unshare rm -rf "$dir" >/dev/null 2>&1
	rm -rf "$scratch"
	[[ ! -e $dir ]] || rm -rf "$dir"
}

# ---------------------------------------------------------------------------
# Running skiff

run_skiff() {
	local pre=()
	if [[ ${1-} == --separate-stderr ]]; then
		pre+=("$1")
		shift
	fi
	if is_expected_rc "${1-}"; then
		pre+=("$1")
		shift
	fi
	run_skiff_bare "${pre[@]}" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" \
		${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} "$@"
}

run_skiff_bare() {
	local runopts=() expected=0
	if [[ ${1-} == --separate-stderr ]]; then
		runopts=(--separate-stderr)
		shift
	fi
	if is_expected_rc "${1-}"; then
		expected=$1
		shift
	fi
	# bats warns (BW01) about a 127 that `run` was not told to expect.
	[[ $expected != 127 ]] || runopts+=(-127)
	unset stderr stderr_lines
	echo "\$ skiff $*"
	run "${runopts[@]}" "$SKIFF" "$@"
	echo "$output"
	[[ -z ${stderr-} ]] || echo "(stderr) $stderr"
	if [[ $expected != '?' && $status -ne $expected ]]; then
		die "exit code is $status; expected $expected"
	fi
}

is_expected_rc() {
	[[ $1 =~ ^([0-9]{1,3}|\?)$ ]]
}

# ---------------------------------------------------------------------------
# Assertions

die() {
	echo "#/vvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvvv" >&2
	echo "#| FAIL: $*" >&2
	echo "#\\^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^^" >&2
	return 1
}

assert_equal() {
	[[ $1 == "$2" ]] && return 0
	die "${3:-value}: expected [$2], got [$1]"
}

assert_match() {
	[[ $1 =~ $2 ]] && return 0
	die "${3:-value}: [$1] does not match /$2/"
}

assert_contains() {
	[[ $1 == *"$2"* ]] && return 0
	die "${3:-value}: [$1] does not contain [$2]"
}

assert_not_contains() {
	[[ $1 != *"$2"* ]] && return 0
	die "${3:-value}: [$1] contains [$2]"
}

# ---------------------------------------------------------------------------
# Subordinate IDs and modes

subid_ranges() {
	local file=$1
	awk -F: -v name="$(id -un)" -v uid="$(id -u)" \
		'($1 == name || $1 == uid) && NF == 3 { print $2, $3 }' \
		"$file" 2>/dev/null
}

expected_id_map() {
	echo "0 $2 1"
	subid_ranges "$1" | awk 'BEGIN { n = 1 } { print n, $1, $2; n += $2 }'
}

normalize_id_map() {
	awk '{ print $1, $2, $3 }'
}

require_rootless() {
	[[ $(id -u) -ne 0 ]] && return 0
	skip "runs as root; rootless behaviour needs an unprivileged user (tests/run-tests.sh as root makes one)"
}

require_subids() {
	require_rootless
	[[ -n $(subid_ranges /etc/subuid) && -n $(subid_ranges /etc/subgid) ]] && return 0
	skip "user $(id -un) has no /etc/subuid and /etc/subgid range"
}

require_no_subids() {
	require_rootless
	[[ -z $(subid_ranges /etc/subuid) && -z $(subid_ranges /etc/subgid) ]] && return 0
	skip "user $(id -un) has a subordinate ID range (tests/run-tests.sh as root runs this as a user without one)"
}

# ---------------------------------------------------------------------------
# Registry

# Where helpers keep per-file state: bats' file directory when there is one.
helpers_state_dir() {
	local dir=${BATS_FILE_TMPDIR:-${BATS_TMPDIR:-${TMPDIR:-/tmp}}}
	echo "$dir"
}

free_port() {
	local port
	for _ in $(seq 1 100); do
		port=$((20000 + RANDOM % 40000))
		if [[ -z $(ss -Htln "sport = :$port" 2>/dev/null) ]]; then
			echo "$port"
			return 0
		fi
	done
	die "no free TCP port found on 127.0.0.1"
}

make_htpasswd() {
	htpasswd -Bbn "$2" "$3" >"$1"
}

write_registry_config() {
	local dir=$1 port=$2 htpasswd=$3
	cat >"$dir/config.yml" <<EOF
version: 0.1
log:
  level: warn
  accesslog:
    disabled: true
storage:
  filesystem:
    rootdirectory: $dir/data
  delete:
    enabled: true
http:
  addr: 127.0.0.1:$port
  headers:
    X-Content-Type-Options: [nosniff]
EOF
	if [[ -n $htpasswd ]]; then
		cat >>"$dir/config.yml" <<EOF
auth:
  htpasswd:
    realm: skiff-test
    path: $htpasswd
EOF
	fi
}

# Poll /v2/ until the registry answers (200, or 401 behind auth); give up
# early when the process died (for example because the port was taken
# between free_port and its bind).
wait_for_registry() {
	local port=$1 pid=$2 code
	for _ in $(seq 1 100); do
		kill -0 "$pid" 2>/dev/null || return 1
		code=$(curl -s -o /dev/null -w '%{http_code}' --max-time 2 \
			"http://127.0.0.1:$port/v2/" || true)
		[[ $code == 200 || $code == 401 ]] && return 0
		sleep 0.1
	done
	return 1
}

start_registry() {
	local htpasswd='' dir port pid
	while [[ $# -gt 0 ]]; do
		case $1 in
		--htpasswd)
			htpasswd=$(realpath "$2")
			shift 2
			;;
		*)
			die "start_registry: unknown argument $1"
			return
			;;
		esac
	done
	dir=$(mktemp -d "$(helpers_state_dir)/registry.XXXXXX")
	for _ in 1 2 3 4 5; do
		port=$(free_port) || return
		write_registry_config "$dir" "$port" "$htpasswd"
		# No inherited descriptors: bats waits for fd 3 to close.
		docker-registry serve "$dir/config.yml" </dev/null >"$dir/log" 2>&1 3>&- &
		pid=$!
		echo "$pid" >"$dir/pid"
		if wait_for_registry "$port" "$pid"; then
			echo "$dir" >>"$(helpers_state_dir)/skiff-registries"
			export REGISTRY_DIR=$dir REGISTRY_PORT=$port
			export REGISTRY_ADDR=127.0.0.1:$port
			return 0
		fi
		stop_registry "$dir"
	done
	die "docker-registry did not start; its log: $(cat "$dir/log")"
}

stop_registry() {
	local dir=${1:-${REGISTRY_DIR-}} pid
	[[ -n $dir && -f $dir/pid ]] || return 0
	pid=$(cat "$dir/pid")
	rm -f "$dir/pid"
	kill "$pid" 2>/dev/null || return 0
	for _ in $(seq 1 50); do
		kill -0 "$pid" 2>/dev/null || return 0
		sleep 0.1
	done
	kill -9 "$pid" 2>/dev/null || true
}

stop_all_registries() {
	local list dir
	list=$(helpers_state_dir)/skiff-registries
	[[ -f $list ]] || return 0
	while read -r dir; do
		stop_registry "$dir"
	done <"$list"
	rm -f "$list"
}

registry_curl() {
	local path=$1 auth=()
	shift
	[[ -z ${REGISTRY_CREDS-} ]] || auth=(-u "$REGISTRY_CREDS")
	curl -s --max-time 30 "${auth[@]}" "$@" "http://$REGISTRY_ADDR/$path"
}

MANIFEST_ACCEPT='application/vnd.oci.image.manifest.v1+json, application/vnd.docker.distribution.manifest.v2+json, application/vnd.oci.image.index.v1+json, application/vnd.docker.distribution.manifest.list.v2+json'

registry_manifest() {
	registry_curl "v2/$1/manifests/$2" -f -H "Accept: $MANIFEST_ACCEPT"
}

registry_manifest_digest() {
	registry_curl "v2/$1/manifests/$2" -f -I -H "Accept: $MANIFEST_ACCEPT" |
		tr -d '\r' | sed -n 's/^[Dd]ocker-[Cc]ontent-[Dd]igest: *//p'
}

registry_blob() {
	registry_curl "v2/$1/blobs/$2" -f -L -o "$3"
}

# ---------------------------------------------------------------------------
# OCI images built without skiff

oci_arch() {
	case $(uname -m) in
	x86_64) echo amd64 ;;
	aarch64) echo arm64 ;;
	armv7l | armv6l) echo arm ;;
	i?86) echo 386 ;;
	ppc64le) echo ppc64le ;;
	s390x) echo s390x ;;
	riscv64) echo riscv64 ;;
	*) uname -m ;;
	esac
}

fixture_busybox_rootfs() {
	local dir=$1 applet
	mkdir -p "$dir"/{bin,dev,etc,home,proc,root,sys,tmp,usr/bin,var}
	cp "$BUSYBOX" "$dir/bin/busybox"
	for applet in $("$BUSYBOX" --list); do
		[[ $applet == busybox ]] || ln -sf busybox "$dir/bin/$applet"
	done
	ln -sf ../../bin/busybox "$dir/usr/bin/env"
	cat >"$dir/etc/passwd" <<'EOF'
root:x:0:0:root:/root:/bin/sh
nobody:x:65534:65534:nobody:/nonexistent:/bin/false
EOF
	cat >"$dir/etc/group" <<'EOF'
root:x:0:
nobody:x:65534:
EOF
	# Modes must not depend on the caller's umask: the digests would.
	chmod -R u=rwX,go=rX "$dir"
	chmod 0755 "$dir/bin/busybox"
	chmod 1777 "$dir/tmp"
	chmod 0700 "$dir/root"
}

# Fixed mtime, sorted names and numeric owners make the digests the same on
# every run and every machine with the same busybox.
LAYER_TAR_OPTS=(--format=gnu --sort=name --numeric-owner --mtime=@1700000000)

layer_tar() {
	local tar=$1 dir=$2 entries
	shift 2
	entries=$(cd "$dir" && LC_ALL=C ls -A)
	# shellcheck disable=SC2086 # entries are our own simple names
	tar -C "$dir" --create --file "$tar" "${LAYER_TAR_OPTS[@]}" \
		--owner=0 --group=0 "$@" -- $entries
}

layer_tar_append() {
	local tar=$1 dir=$2 uid=$3 gid=$4
	shift 4
	tar -C "$dir" --append --file "$tar" "${LAYER_TAR_OPTS[@]}" \
		--owner="$uid" --group="$gid" -- "$@"
}

sha256_of() {
	sha256sum "$1" | cut -d' ' -f1
}

# Copy FILE into LAYOUT's blobs; prints "sha256:HEX SIZE".
oci_put_blob() {
	local layout=$1 file=$2 hex
	hex=$(sha256_of "$file")
	mkdir -p "$layout/blobs/sha256"
	cp "$file" "$layout/blobs/sha256/$hex"
	echo "sha256:$hex $(stat -c %s "$file")"
}

oci_blob_path() {
	echo "$1/blobs/sha256/${2#sha256:}"
}

compress_layer() {
	local tar=$1
	case ${OCI_LAYER_COMPRESSION:-gzip} in
	gzip)
		gzip -n -6 -c "$tar" >"$tar.gz"
		echo "$tar.gz application/vnd.oci.image.layer.v1.tar+gzip"
		;;
	zstd)
		zstd -q -c "$tar" >"$tar.zst"
		echo "$tar.zst application/vnd.oci.image.layer.v1.tar+zstd"
		;;
	none)
		echo "$tar application/vnd.oci.image.layer.v1.tar"
		;;
	*)
		die "OCI_LAYER_COMPRESSION: unknown value ${OCI_LAYER_COMPRESSION}"
		;;
	esac
}

oci_add_image() {
	local layout=$1 tag=$2 tar blob digest size mediatype work
	shift 2
	local layers='[]' diff_ids='[]'
	work=$(mktemp -d "$(helpers_state_dir)/oci-work.XXXXXX")
	mkdir -p "$layout/blobs/sha256"
	echo '{"imageLayoutVersion":"1.0.0"}' >"$layout/oci-layout"
	for tar in "$@"; do
		diff_ids=$(jq -c --arg d "sha256:$(sha256_of "$tar")" '. + [$d]' <<<"$diff_ids")
		cp "$tar" "$work/layer.tar"
		read -r blob mediatype < <(compress_layer "$work/layer.tar")
		[[ -n $blob ]] || return 1
		read -r digest size < <(oci_put_blob "$layout" "$blob")
		layers=$(jq -c --arg m "$mediatype" --arg d "$digest" --argjson s "$size" \
			'. + [{mediaType: $m, digest: $d, size: $s}]' <<<"$layers")
		rm -f "$work"/layer.tar*
	done

	jq -c -n --arg arch "$(oci_arch)" --argjson diff_ids "$diff_ids" \
		--argjson extra "${OCI_IMAGE_CONFIG:-{\}}" '{
		created: "2023-11-14T22:13:20Z",
		architecture: $arch,
		os: "linux",
		config: ({
			Env: ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"],
			Cmd: ["sh"]
		} + $extra),
		rootfs: { type: "layers", diff_ids: $diff_ids },
		history: [ $diff_ids[] | { created: "2023-11-14T22:13:20Z",
			created_by: "skiff test fixture" } ]
	}' >"$work/config.json"
	read -r OCI_CONFIG_DIGEST size < <(oci_put_blob "$layout" "$work/config.json")

	jq -c -n --arg d "$OCI_CONFIG_DIGEST" --argjson s "$size" --argjson layers "$layers" '{
		schemaVersion: 2,
		mediaType: "application/vnd.oci.image.manifest.v1+json",
		config: { mediaType: "application/vnd.oci.image.config.v1+json",
			digest: $d, size: $s },
		layers: $layers
	}' >"$work/manifest.json"
	read -r OCI_MANIFEST_DIGEST size < <(oci_put_blob "$layout" "$work/manifest.json")

	[[ -f $layout/index.json ]] || echo '{"schemaVersion":2,"manifests":[]}' >"$layout/index.json"
	jq -c --arg d "$OCI_MANIFEST_DIGEST" --argjson s "$size" --arg tag "$tag" \
		--arg arch "$(oci_arch)" '
		.manifests |= (map(select(.annotations["org.opencontainers.image.ref.name"] != $tag))
			+ [{ mediaType: "application/vnd.oci.image.manifest.v1+json",
				digest: $d, size: $s,
				platform: { architecture: $arch, os: "linux" },
				annotations: { "org.opencontainers.image.ref.name": $tag } }])
	' "$layout/index.json" >"$work/index.json"
	mv "$work/index.json" "$layout/index.json"
	rm -rf "$work"
	export OCI_MANIFEST_DIGEST OCI_CONFIG_DIGEST
}

oci_manifest() {
	local layout=$1 tag=$2 digest
	digest=$(jq -r --arg tag "$tag" '.manifests[]
		| select(.annotations["org.opencontainers.image.ref.name"] == $tag)
		| .digest' "$layout/index.json")
	[[ -n $digest ]] || {
		die "no tag $tag in $layout"
		return
	}
	cat "$(oci_blob_path "$layout" "$digest")"
}

build_busybox_image() {
	local layout=$1 tag=${2:-latest} work
	work=$(mktemp -d "$(helpers_state_dir)/fixture.XXXXXX")
	fixture_busybox_rootfs "$work/rootfs"
	layer_tar "$work/layer.tar" "$work/rootfs"
	oci_add_image "$layout" "$tag" "$work/layer.tar"
	rm -rf "$work"
}

build_multilayer_image() {
	local layout=$1 tag=${2:-latest} work
	work=$(mktemp -d "$(helpers_state_dir)/fixture.XXXXXX")

	fixture_busybox_rootfs "$work/l1"
	mkdir -p "$work/l1/etc/skiff-fixture" "$work/l1/opq"
	echo old >"$work/l1/etc/skiff-fixture/old.txt"
	echo a >"$work/l1/opq/a"
	echo b >"$work/l1/opq/b"
	chmod -R u=rwX,go=rX "$work/l1/etc/skiff-fixture" "$work/l1/opq"
	layer_tar "$work/l1.tar" "$work/l1"

	mkdir -p "$work/l2/etc/skiff-fixture" "$work/l2/opq"
	: >"$work/l2/etc/skiff-fixture/.wh.old.txt"
	: >"$work/l2/opq/.wh..wh..opq"
	echo c >"$work/l2/opq/c"
	chmod -R u=rwX,go=rX "$work/l2"
	layer_tar "$work/l2.tar" "$work/l2"
	mkdir -p "$work/l2owned/etc/skiff-fixture"
	echo owned >"$work/l2owned/etc/skiff-fixture/owned.txt"
	chmod 0640 "$work/l2owned/etc/skiff-fixture/owned.txt"
	layer_tar_append "$work/l2.tar" "$work/l2owned" 1000 1000 \
		etc/skiff-fixture/owned.txt

	oci_add_image "$layout" "$tag" "$work/l1.tar" "$work/l2.tar"
	rm -rf "$work"
}

# skopeo reads policy.json, registries.conf, auth.json and a blob-info cache
# from the user's home; point every one at a private directory.
skopeo_env_dir() {
	local dir
	dir=$(helpers_state_dir)/skopeo
	if [[ ! -f $dir/policy.json ]]; then
		mkdir -p "$dir/data"
		echo '{"default":[{"type":"insecureAcceptAnything"}]}' >"$dir/policy.json"
		printf 'unqualified-search-registries = []\n' >"$dir/registries.conf"
		echo '{"auths":{}}' >"$dir/auth.json"
	fi
	echo "$dir"
}

push_image() {
	local layout=$1 tag=$2 ref=$3 dir creds=()
	dir=$(skopeo_env_dir)
	[[ -z ${REGISTRY_CREDS-} ]] || creds=(--dest-creds "$REGISTRY_CREDS")
	XDG_DATA_HOME=$dir/data REGISTRY_AUTH_FILE=$dir/auth.json \
		skopeo --insecure-policy --policy "$dir/policy.json" \
		--registries-conf "$dir/registries.conf" \
		copy --quiet --dest-tls-verify=false "${creds[@]}" \
		"oci:$layout:$tag" "docker://$ref"
}

# ---------------------------------------------------------------------------
# More registries and image surgery

FIXTURES_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)/fixtures

wait_for_file() {
	local file=$1 pid=$2
	for _ in $(seq 1 100); do
		[[ -s $file ]] && return 0
		kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# Start a python fixture that writes its port to DIR/port; its pid goes to
# DIR/pid and DIR to the list stop_all_registries walks.
start_python_fixture() {
	local dir=$1 script=$2 pid
	shift 2
	# No inherited descriptors: bats waits for fd 3 to close.
	python3 "$FIXTURES_DIR/$script" --port-file "$dir/port" "$@" \
		</dev/null >"$dir/log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$dir/pid"
	echo "$dir" >>"$(helpers_state_dir)/skiff-registries"
	wait_for_file "$dir/port" "$pid" ||
		die "$script did not start; its log: $(cat "$dir/log")"
}

start_token_registry() {
	local user=$1 password=$2 private='' tdir dir port pid
	shift 2
	if [[ ${1-} == --private ]]; then
		private=$2
		shift 2
	fi
	tdir=$(mktemp -d "$(helpers_state_dir)/token-server.XXXXXX")
	start_python_fixture "$tdir" token-server.py --cert "$tdir/cert.pem" \
		--service skiff-test-registry --issuer skiff-test-issuer \
		--user "$user:$password" --private "$private" --log "$tdir/requests" || return
	TOKEN_SERVER_ADDR=127.0.0.1:$(cat "$tdir/port")
	export TOKEN_SERVER_ADDR TOKEN_LOG=$tdir/requests

	dir=$(mktemp -d "$(helpers_state_dir)/registry.XXXXXX")
	for _ in 1 2 3 4 5; do
		port=$(free_port) || return
		write_registry_config "$dir" "$port" ''
		cat >>"$dir/config.yml" <<EOF
auth:
  token:
    realm: http://$TOKEN_SERVER_ADDR/token
    service: skiff-test-registry
    issuer: skiff-test-issuer
    rootcertbundle: $tdir/cert.pem
EOF
		docker-registry serve "$dir/config.yml" </dev/null >"$dir/log" 2>&1 3>&- &
		pid=$!
		echo "$pid" >"$dir/pid"
		if wait_for_registry "$port" "$pid"; then
			echo "$dir" >>"$(helpers_state_dir)/skiff-registries"
			export REGISTRY_DIR=$dir REGISTRY_PORT=$port
			export REGISTRY_ADDR=127.0.0.1:$port
			return 0
		fi
		stop_registry "$dir"
	done
	die "docker-registry did not start; its log: $(cat "$dir/log")"
}

start_fake_registry() {
	local layout=$1 dir
	shift
	dir=$(mktemp -d "$(helpers_state_dir)/fake-registry.XXXXXX")
	start_python_fixture "$dir" fake-registry.py --layout "$layout" \
		--log "$dir/requests" "$@" || return
	FAKE_REGISTRY_ADDR=127.0.0.1:$(cat "$dir/port")
	export FAKE_REGISTRY_ADDR
	export FAKE_REGISTRY_LOG=$dir/requests
}

oci_set_manifest() {
	local layout=$1 tag=$2 file=$3 mediatype=${4:-application/vnd.oci.image.manifest.v1+json}
	local size tmp
	read -r OCI_MANIFEST_DIGEST size < <(oci_put_blob "$layout" "$file")
	[[ -f $layout/index.json ]] || echo '{"schemaVersion":2,"manifests":[]}' >"$layout/index.json"
	tmp=$(mktemp "$(helpers_state_dir)/index.XXXXXX")
	jq -c --arg d "$OCI_MANIFEST_DIGEST" --argjson s "$size" --arg tag "$tag" \
		--arg m "$mediatype" '
		.manifests |= (map(select(.annotations["org.opencontainers.image.ref.name"] != $tag))
			+ [{ mediaType: $m, digest: $d, size: $s,
				annotations: { "org.opencontainers.image.ref.name": $tag } }])
	' "$layout/index.json" >"$tmp"
	mv "$tmp" "$layout/index.json"
	export OCI_MANIFEST_DIGEST
}

oci_retarget_arch() {
	local layout=$1 tag=$2 arch=$3 manifest work size
	manifest=$(oci_manifest "$layout" "$tag") || return
	work=$(mktemp -d "$(helpers_state_dir)/retarget.XXXXXX")
	jq -c --arg arch "$arch" '.architecture = $arch' \
		"$(oci_blob_path "$layout" "$(jq -r .config.digest <<<"$manifest")")" >"$work/config.json"
	read -r OCI_CONFIG_DIGEST size < <(oci_put_blob "$layout" "$work/config.json")
	jq -c --arg d "$OCI_CONFIG_DIGEST" --argjson s "$size" \
		'.config.digest = $d | .config.size = $s' <<<"$manifest" >"$work/manifest.json"
	oci_set_manifest "$layout" "$tag" "$work/manifest.json"
	jq -c --arg tag "$tag" --arg arch "$arch" '
		.manifests |= map(if .annotations["org.opencontainers.image.ref.name"] == $tag
			then .platform = { architecture: $arch, os: "linux" } else . end)
	' "$layout/index.json" >"$work/index.json"
	mv "$work/index.json" "$layout/index.json"
	rm -rf "$work"
	export OCI_CONFIG_DIGEST
}

registry_put_manifest() {
	local repo=$1 ref=$2 file=$3 mediatype=$4
	registry_curl "v2/$repo/manifests/$ref" -X PUT -o /dev/null -w '%{http_code}' \
		-H "Content-Type: $mediatype" --data-binary "@$file"
}

python_getxattr() {
	python3 -c '
import os, sys
try:
    sys.stdout.write(os.getxattr(sys.argv[1], sys.argv[2], follow_symlinks=False).decode())
except OSError:
    pass
' "$1" "$2"
}

registry_push_verbatim() {
	local layout=$1 tag=$2 repo=$3 ref=$4 manifest digest location code
	manifest=$(oci_manifest "$layout" "$tag") || return
	for digest in $(jq -r '.config.digest, .layers[].digest' <<<"$manifest"); do
		location=$(registry_curl "v2/$repo/blobs/uploads/" -X POST -D - -o /dev/null |
			tr -d '\r' | sed -n 's/^[Ll]ocation: *//p')
		[[ -n $location ]] || {
			die "registry gave no upload location for $repo"
			return
		}
		[[ $location == http* ]] || location=http://$REGISTRY_ADDR$location
		[[ $location == *\?* ]] && location+="&" || location+="?"
		code=$(curl -s --max-time 30 ${REGISTRY_CREDS:+-u "$REGISTRY_CREDS"} -X PUT \
			-o /dev/null -w '%{http_code}' -H 'Content-Type: application/octet-stream' \
			--data-binary "@$(oci_blob_path "$layout" "$digest")" "${location}digest=$digest")
		[[ $code == 201 ]] || {
			die "upload of $digest to $repo: HTTP $code"
			return
		}
	done
	code=$(registry_put_manifest "$repo" "$ref" \
		"$(oci_blob_path "$layout" "$(jq -r --arg tag "$tag" '.manifests[]
			| select(.annotations["org.opencontainers.image.ref.name"] == $tag)
			| .digest' "$layout/index.json")")" \
		"$(jq -r '.mediaType // "application/vnd.oci.image.manifest.v1+json"' <<<"$manifest")")
	[[ $code == 201 ]] || die "manifest PUT to $repo:$ref: HTTP $code"
}

# ---------------------------------------------------------------------------
# Containers

skiff_cmd() {
	"$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" \
		${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} "$@"
}

skiff_bg() {
	local out=$1
	shift
	# No inherited descriptors: bats waits for fd 3 to close.
	"$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" \
		${SKIFF_TEST_DRIVER:+--storage-driver "$SKIFF_TEST_DRIVER"} "$@" \
		</dev/null >"$out" 2>&1 3>&- &
	SKIFF_BG_PID=$!
}

container_image_setup() {
	local layout=$BATS_FILE_TMPDIR/ctr-layout
	build_busybox_image "$layout" busybox
	start_registry
	export CTR_IMAGE=$REGISTRY_ADDR/skiff/busybox:latest
	push_image "$layout" busybox "$CTR_IMAGE"
	CTR_IMAGE_ID=$(oci_manifest "$layout" busybox | jq -r .config.digest)
	export CTR_IMAGE_ID
}

pull_ctr_image() {
	skiff_cmd pull -q --tls-verify=false "$CTR_IMAGE" >/dev/null ||
		die "pull $CTR_IMAGE failed"
}

# Every container goes, also after a failure: a monitor left running would
# keep its files (and a fuse-overlayfs mount) in the test's directory.
container_teardown() {
	if [[ -n ${SKIFF_TEST_DIR-} && -d ${SKIFF_ROOT-} ]]; then
		skiff_cmd rm -a -f >/dev/null 2>&1 || true
	fi
	skiff_teardown
}

wait_until() {
	local tries=$1
	shift
	for _ in $(seq 1 "$tries"); do
		"$@" && return 0
		sleep 0.1
	done
	die "gave up waiting for: $*"
}

ctr_status() {
	skiff_cmd inspect --format '{{.State.Status}}' "$1" 2>/dev/null
}

ctr_logs_contain() {
	[[ $(skiff_cmd logs "$1" 2>&1) == *"$2"* ]]
}

ctr_state_file() {
	echo "$SKIFF_ROOT/containers/$1/state.json"
}

pid_alive() {
	local state
	state=$(awk '/^State:/ { print $2 }' "/proc/$1/status" 2>/dev/null) || return 1
	[[ -n $state && $state != Z ]]
}

# ---------------------------------------------------------------------------
# Networking (50-network.bats)

ctr_host_port() {
	local out
	out=$(skiff_cmd port "$1" "$2") || return 1
	out=${out%%$'\n'*}
	[[ $out =~ :([0-9]+)$ ]] || return 1
	echo "${BASH_REMATCH[1]}"
}

ctr_monitor_pid() {
	jq -r .monitor_pid "$(ctr_state_file "$(skiff_cmd inspect --format '{{.Id}}' "$1")")"
}

proc_cpu_ticks() {
	local stat
	stat=$(<"/proc/$1/stat") || return 1
	stat=${stat##*) }
	# After "(comm) ": field 3 is the first; utime and stime are 14 and 15.
	awk '{ print $12 + $13 }' <<<"$stat"
}

proc_fd_count() {
	local fds=("/proc/$1/fd/"*)
	echo "${#fds[@]}"
}

http_get_ok() {
	local body
	body=$(curl -sf --max-time 2 "http://127.0.0.1:$1/${2-}" 2>/dev/null) || return 1
	[[ $body == "${3-}"* ]]
}
