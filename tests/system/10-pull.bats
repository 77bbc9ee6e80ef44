#!/usr/bin/env bats
# skiff pull: images come from a real registry (docker-registry on
# 127.0.0.1, plain HTTP, hence --tls-verify=false) where skopeo pushed the
# fixtures built by helpers.bash, and land in the store as the image
# record, the compressed blobs and one extracted directory per layer.  The
# layer directories are compared with what was pushed from inside the user
# namespace (`skiff unshare`), where owners read as in the image.

load helpers

setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	build_busybox_image "$LAYOUT" busybox
	build_multilayer_image "$LAYOUT" multilayer
	OCI_LAYER_COMPRESSION=zstd build_busybox_image "$LAYOUT" zstd
	OCI_LAYER_COMPRESSION=none build_busybox_image "$LAYOUT" plain

	start_registry
	export PLAIN_ADDR=$REGISTRY_ADDR
	push_image "$LAYOUT" busybox "$PLAIN_ADDR/skiff/busybox:latest"
	push_image "$LAYOUT" multilayer "$PLAIN_ADDR/skiff/multilayer:v1"
	push_image "$LAYOUT" zstd "$PLAIN_ADDR/skiff/zstd:v1"
	# skopeo would compress the uncompressed layer on the way.
	registry_push_verbatim "$LAYOUT" plain skiff/plain v1
	push_multiarch "$PLAIN_ADDR/skiff/multiarch"
	push_docker_multiarch skiff/dockerlist

	make_htpasswd "$BATS_FILE_TMPDIR/htpasswd" skiffuser 's3cret pass'
	start_registry --htpasswd "$BATS_FILE_TMPDIR/htpasswd"
	export BASIC_ADDR=$REGISTRY_ADDR
	REGISTRY_CREDS='skiffuser:s3cret pass' push_image "$LAYOUT" busybox \
		"$BASIC_ADDR/private/busybox:latest"

	start_token_registry tokenuser 'token pass' --private private
	export TOKEN_ADDR=$REGISTRY_ADDR
	REGISTRY_CREDS='tokenuser:token pass' push_image "$LAYOUT" busybox \
		"$TOKEN_ADDR/public/busybox:latest"
	REGISTRY_CREDS='tokenuser:token pass' push_image "$LAYOUT" busybox \
		"$TOKEN_ADDR/private/busybox:latest"
}

# The architecture an index offers besides the host's.
other_arch() {
	if [[ $(oci_arch) == arm64 ]]; then echo s390x; else echo arm64; fi
}

# REPO:host and REPO:<other arch> (the busybox image, its config saying
# that architecture), and REPO:latest, an OCI index of the two.
push_multiarch() {
	local repo=$1 other index digest_host digest_other size_host size_other
	other=$(other_arch)
	build_busybox_image "$LAYOUT" multiarch-host
	build_busybox_image "$LAYOUT" multiarch-other
	oci_retarget_arch "$LAYOUT" multiarch-other "$other"
	push_image "$LAYOUT" multiarch-host "$repo:host"
	push_image "$LAYOUT" multiarch-other "$repo:$other"
	digest_host=$(registry_manifest_digest "${repo#*/}" host)
	digest_other=$(registry_manifest_digest "${repo#*/}" "$other")
	size_host=$(registry_manifest "${repo#*/}" host | wc -c)
	size_other=$(registry_manifest "${repo#*/}" "$other" | wc -c)
	index=$BATS_FILE_TMPDIR/index.json
	jq -n -c --arg dh "$digest_host" --argjson sh "$size_host" --arg ah "$(oci_arch)" \
		--arg dother "$digest_other" --argjson sother "$size_other" --arg aother "$other" '{
		schemaVersion: 2,
		mediaType: "application/vnd.oci.image.index.v1+json",
		manifests: [
			{ mediaType: "application/vnd.oci.image.manifest.v1+json",
			  digest: $dother, size: $sother, platform: { architecture: $aother, os: "linux" } },
			{ mediaType: "application/vnd.oci.image.manifest.v1+json",
			  digest: $dh, size: $sh, platform: { architecture: $ah, os: "linux" } }
		]
	}' >"$index"
	assert_equal "$(registry_put_manifest "${repo#*/}" latest "$index" \
		application/vnd.oci.image.index.v1+json)" 201 "PUT index"
}

# The OCI manifest of LAYOUT's TAG as Docker schema 2, stored as TAG-docker.
docker_schema2() {
	local tag=$1 file=$BATS_FILE_TMPDIR/$1-docker.json
	oci_manifest "$LAYOUT" "$tag" | jq -c '
		.mediaType = "application/vnd.docker.distribution.manifest.v2+json"
		| .config.mediaType = "application/vnd.docker.container.image.v1+json"
		| .layers[].mediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"' >"$file"
	oci_set_manifest "$LAYOUT" "$tag-docker" "$file" application/vnd.docker.distribution.manifest.v2+json
}

# REPO:latest, a Docker manifest list of Docker schema 2 manifests of the
# images push_multiarch made.
push_docker_multiarch() {
	local repo=$1 other list tag digests=() sizes=()
	other=$(other_arch)
	for tag in multiarch-host multiarch-other; do
		docker_schema2 "$tag"
		registry_push_verbatim "$LAYOUT" "$tag-docker" "$repo" "$tag"
		digests+=("$(registry_manifest_digest "$repo" "$tag")")
		sizes+=("$(registry_manifest "$repo" "$tag" | wc -c)")
	done
	list=$BATS_FILE_TMPDIR/list.json
	jq -n -c --arg dh "${digests[0]}" --argjson sh "${sizes[0]}" --arg ah "$(oci_arch)" \
		--arg dother "${digests[1]}" --argjson sother "${sizes[1]}" --arg aother "$other" '{
		schemaVersion: 2,
		mediaType: "application/vnd.docker.distribution.manifest.list.v2+json",
		manifests: [
			{ mediaType: "application/vnd.docker.distribution.manifest.v2+json",
			  digest: $dother, size: $sother, platform: { architecture: $aother, os: "linux" } },
			{ mediaType: "application/vnd.docker.distribution.manifest.v2+json",
			  digest: $dh, size: $sh, platform: { architecture: $ah, os: "linux" } }
		]
	}' >"$list"
	assert_equal "$(registry_put_manifest "$repo" latest "$list" \
		application/vnd.docker.distribution.manifest.list.v2+json)" 201 "PUT manifest list"
}

# skiff_pull [RC] ARGS...: pull over plain HTTP.
skiff_pull() {
	local rc=0
	if is_expected_rc "${1-}"; then
		rc=$1
		shift
	fi
	run_skiff "$rc" pull --tls-verify=false "$@"
}

# skiff's stdout, for a command substitution (run_skiff logs the command
# line to stdout).
skiff_out() {
	"$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" "$@"
}

# The chain IDs of the diff IDs given, bottom first (OCI image spec).
chain_ids() {
	local chain='' diff_id
	for diff_id in "$@"; do
		if [[ -z $chain ]]; then
			chain=$diff_id
		else
			chain=sha256:$(printf '%s %s' "$chain" "$diff_id" | sha256sum | cut -d' ' -f1)
		fi
		echo "$chain"
	done
}

# The extracted directory of layer N (0 = bottom) of image REF.
layer_dir() {
	local ref=$1 n=$2 diff_ids chains
	mapfile -t diff_ids < <(skiff_out inspect --format '{{json .RootFS.Layers}}' "$ref" | jq -r '.[]')
	mapfile -t chains < <(chain_ids "${diff_ids[@]}")
	echo "$SKIFF_ROOT/layers/${chains[$n]#sha256:}/diff"
}

# "TYPE MODE UID:GID PATH" for every entry of a layer blob, sorted, in
# find -printf '%y %m %U:%G %P' terms.
tar_listing() {
	python3 - "$1" <<'EOF' | LC_ALL=C sort
import sys, tarfile
kinds = {tarfile.DIRTYPE: "d", tarfile.REGTYPE: "f", tarfile.AREGTYPE: "f",
         tarfile.SYMTYPE: "l"}
with tarfile.open(sys.argv[1], "r:*") as tar:
    for m in tar:
        name = m.name.rstrip("/")
        if name.startswith("./"):
            name = name[2:]
        if name in ("", "."):
            continue
        print(f"{kinds.get(m.type, m.type)} {m.mode:o} {m.uid}:{m.gid} {name}")
EOF
}

# The same for an extracted directory, read inside the user namespace.
dir_listing() {
	skiff_out unshare find "$1" -mindepth 1 -printf '%y %m %U:%G %P\n' | LC_ALL=C sort
}

# The repository's manifest, config and layer blob N, from the registry.
fixture_layer_blob() {
	local repo=$1 tag=$2 n=$3 out=$4 digest
	digest=$(REGISTRY_ADDR=$PLAIN_ADDR registry_manifest "$repo" "$tag" | jq -r ".layers[$n].digest")
	REGISTRY_ADDR=$PLAIN_ADDR registry_blob "$repo" "$digest" "$out"
}

@test "pull by tag: images lists it, inspect has its tag and repo digest" {
	local digest
	digest=$(REGISTRY_ADDR=$PLAIN_ADDR registry_manifest_digest skiff/multilayer v1)
	skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	run_skiff images --format '{{.Repository}} {{.Tag}}'
	assert_equal "$output" "$PLAIN_ADDR/skiff/multilayer v1" "images"
	run_skiff inspect "$PLAIN_ADDR/skiff/multilayer:v1"
	assert_equal "$(jq -c '.[0].RepoTags' <<<"$output")" \
		"[\"$PLAIN_ADDR/skiff/multilayer:v1\"]" "RepoTags"
	assert_equal "$(jq -c '.[0].RepoDigests' <<<"$output")" \
		"[\"$PLAIN_ADDR/skiff/multilayer@$digest\"]" "RepoDigests"
	assert_equal "$(jq -r '.[0].Digest' <<<"$output")" "$digest" "Digest"
}

@test "pull prints the image ID on stdout, progress on stderr" {
	local config_digest
	config_digest=$(REGISTRY_ADDR=$PLAIN_ADDR registry_manifest skiff/busybox latest | jq -r .config.digest)
	run_skiff --separate-stderr pull --tls-verify=false "$PLAIN_ADDR/skiff/busybox:latest"
	assert_equal "$output" "${config_digest#sha256:}" "stdout"
	assert_contains "$stderr" "Trying to pull $PLAIN_ADDR/skiff/busybox:latest..." "stderr"
	assert_contains "$stderr" "Copying blob " "stderr"
	assert_contains "$stderr" "Writing manifest to image destination" "stderr"
}

@test "pull by digest: images lists the repository, inspect the repo digest" {
	local digest
	digest=$(REGISTRY_ADDR=$PLAIN_ADDR registry_manifest_digest skiff/multilayer v1)
	skiff_pull "$PLAIN_ADDR/skiff/multilayer@$digest"
	run_skiff images --format '{{.Repository}} {{.Tag}}'
	assert_equal "$output" "$PLAIN_ADDR/skiff/multilayer <none>" "images"
	run_skiff inspect "$PLAIN_ADDR/skiff/multilayer@$digest"
	assert_equal "$(jq -c '.[0].RepoTags' <<<"$output")" "[]" "RepoTags"
	assert_equal "$(jq -c '.[0].RepoDigests' <<<"$output")" \
		"[\"$PLAIN_ADDR/skiff/multilayer@$digest\"]" "RepoDigests"
	# Pulled by digest, the image is named: not dangling, not pruned.
	run_skiff images -q --filter dangling=true
	assert_equal "$output" "" "dangling images"
}

@test "pull: image ID is the config digest, layers are the config's diff_ids" {
	local manifest config
	manifest=$(REGISTRY_ADDR=$PLAIN_ADDR registry_manifest skiff/multilayer v1)
	REGISTRY_ADDR=$PLAIN_ADDR registry_blob skiff/multilayer "$(jq -r .config.digest <<<"$manifest")" \
		"$BATS_TEST_TMPDIR/config.json"
	config=$(cat "$BATS_TEST_TMPDIR/config.json")
	skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	run_skiff inspect "$PLAIN_ADDR/skiff/multilayer:v1"
	assert_equal "$(jq -r '.[0].Id' <<<"$output")" "$(jq -r .config.digest <<<"$manifest")" "Id"
	assert_equal "$(jq -c '.[0].RootFS.Layers' <<<"$output")" \
		"$(jq -c .rootfs.diff_ids <<<"$config")" "RootFS.Layers"
}

@test "pull: the store holds one directory per layer, named by chain ID" {
	local expected diff_ids
	skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	run_skiff inspect --format '{{json .RootFS.Layers}}' "$PLAIN_ADDR/skiff/multilayer:v1"
	mapfile -t diff_ids < <(jq -r '.[]' <<<"$output")
	expected=$(chain_ids "${diff_ids[@]}" | sed 's/^sha256://' | LC_ALL=C sort)
	assert_equal "$(cd "$SKIFF_ROOT/layers" && LC_ALL=C ls)" "$expected" "layers/"
}

@test "pull: the base layer's entries, modes and owners are the tar's" {
	skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	fixture_layer_blob skiff/multilayer v1 0 "$BATS_TEST_TMPDIR/layer0"
	assert_equal "$(dir_listing "$(layer_dir "$PLAIN_ADDR/skiff/multilayer:v1" 0)")" \
		"$(tar_listing "$BATS_TEST_TMPDIR/layer0")" "layer 0 listing"
}

@test "pull: file contents are the pushed ones" {
	local dir
	skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	dir=$(layer_dir "$PLAIN_ADDR/skiff/multilayer:v1" 0)
	cmp "$BUSYBOX" "$dir/bin/busybox" || die "bin/busybox differs from $BUSYBOX"
	assert_equal "$(cat "$dir/etc/skiff-fixture/old.txt")" old "old.txt"
	dir=$(layer_dir "$PLAIN_ADDR/skiff/multilayer:v1" 1)
	assert_equal "$(cat "$dir/opq/c")" c "opq/c"
}

@test "pull: a file owned 1000:1000 with mode 0640 keeps both" {
	local dir
	skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	dir=$(layer_dir "$PLAIN_ADDR/skiff/multilayer:v1" 1)
	run_skiff unshare stat -c '%u:%g %a %F' "$dir/etc/skiff-fixture/owned.txt"
	assert_equal "$output" "1000:1000 640 regular file" "owned.txt"
	run_skiff unshare cat "$dir/etc/skiff-fixture/owned.txt"
	assert_equal "$output" owned "owned.txt content"
}

@test "pull: a whiteout becomes a 0:0 character device" {
	local dir
	skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	dir=$(layer_dir "$PLAIN_ADDR/skiff/multilayer:v1" 1)
	run_skiff unshare stat -c '%F %t:%T' "$dir/etc/skiff-fixture/old.txt"
	assert_equal "$output" "character special file 0:0" "whiteout of old.txt"
	[[ ! -e $dir/etc/skiff-fixture/.wh.old.txt ]] || die ".wh.old.txt was kept"
}

@test "pull: an opaque directory carries user.overlay.opaque=y and only its own entries" {
	local dir
	skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	dir=$(layer_dir "$PLAIN_ADDR/skiff/multilayer:v1" 1)
	assert_equal "$(python_getxattr "$dir/opq" user.overlay.opaque)" y "opaque xattr"
	assert_equal "$(cd "$dir/opq" && LC_ALL=C ls -A)" c "entries of opq"
	# The layer below keeps what the opaque directory hides.
	dir=$(layer_dir "$PLAIN_ADDR/skiff/multilayer:v1" 0)
	assert_equal "$(cd "$dir/opq" && LC_ALL=C ls -A)" $'a\nb' "entries of opq below"
	assert_equal "$(python_getxattr "$dir/opq" user.overlay.opaque)" "" "opaque xattr below"
}

@test "pull without whiteout devices (SKIFF_NO_OVERLAY_WHITEOUTS=1): .wh. files are kept" {
	local dir
	SKIFF_NO_OVERLAY_WHITEOUTS=1 skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	dir=$(layer_dir "$PLAIN_ADDR/skiff/multilayer:v1" 1)
	run_skiff unshare stat -c '%F %s' "$dir/etc/skiff-fixture/.wh.old.txt" "$dir/opq/.wh..wh..opq"
	assert_equal "$output" $'regular empty file 0\nregular empty file 0' "whiteout files"
	[[ ! -e $dir/etc/skiff-fixture/old.txt ]] || die "old.txt exists next to its whiteout"
	assert_equal "$(python_getxattr "$dir/opq" user.overlay.opaque)" "" "opaque xattr"
}

@test "pull: a zstd layer is extracted" {
	local dir
	skiff_pull "$PLAIN_ADDR/skiff/zstd:v1"
	assert_equal "$(REGISTRY_ADDR=$PLAIN_ADDR registry_manifest skiff/zstd v1 | jq -r '.layers[0].mediaType')" \
		application/vnd.oci.image.layer.v1.tar+zstd "pushed media type"
	dir=$(layer_dir "$PLAIN_ADDR/skiff/zstd:v1" 0)
	cmp "$BUSYBOX" "$dir/bin/busybox" || die "bin/busybox differs from $BUSYBOX"
	fixture_layer_blob skiff/busybox latest 0 "$BATS_TEST_TMPDIR/layer0"
	assert_equal "$(dir_listing "$dir")" "$(tar_listing "$BATS_TEST_TMPDIR/layer0")" "listing"
}

@test "pull: an uncompressed layer is extracted" {
	local dir
	skiff_pull "$PLAIN_ADDR/skiff/plain:v1"
	assert_equal "$(REGISTRY_ADDR=$PLAIN_ADDR registry_manifest skiff/plain v1 | jq -r '.layers[0].mediaType')" \
		application/vnd.oci.image.layer.v1.tar "pushed media type"
	dir=$(layer_dir "$PLAIN_ADDR/skiff/plain:v1" 0)
	cmp "$BUSYBOX" "$dir/bin/busybox" || die "bin/busybox differs from $BUSYBOX"
	fixture_layer_blob skiff/plain v1 0 "$BATS_TEST_TMPDIR/layer0"
	assert_equal "$(dir_listing "$dir")" "$(tar_listing "$BATS_TEST_TMPDIR/layer0")" "listing"
}

@test "pull: gzip, zstd and plain copies of one layer share one layer directory" {
	skiff_pull "$PLAIN_ADDR/skiff/busybox:latest"
	skiff_pull "$PLAIN_ADDR/skiff/zstd:v1"
	skiff_pull "$PLAIN_ADDR/skiff/plain:v1"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 -maxdepth 1 | wc -l)" 1 "layer directories"
	run_skiff images -q
	assert_equal "${#lines[@]}" 1 "images (same config, one image)"
}

@test "pull: an index gives the host's platform" {
	skiff_pull "$PLAIN_ADDR/skiff/multiarch:latest"
	run_skiff inspect --format '{{.Architecture}} {{.Os}}' "$PLAIN_ADDR/skiff/multiarch:latest"
	assert_equal "$output" "$(oci_arch) linux" "platform"
	run_skiff inspect --format '{{.Digest}}' "$PLAIN_ADDR/skiff/multiarch:latest"
	assert_equal "$output" "$(REGISTRY_ADDR=$PLAIN_ADDR registry_manifest_digest skiff/multiarch host)" \
		"manifest digest"
}

@test "pull --platform: an index gives the platform asked for" {
	skiff_pull --platform "linux/$(other_arch)" "$PLAIN_ADDR/skiff/multiarch:latest"
	run_skiff inspect --format '{{.Architecture}} {{.Os}}' "$PLAIN_ADDR/skiff/multiarch:latest"
	assert_equal "$output" "$(other_arch) linux" "platform"
	run_skiff inspect --format '{{.Digest}}' "$PLAIN_ADDR/skiff/multiarch:latest"
	assert_equal "$output" "$(REGISTRY_ADDR=$PLAIN_ADDR registry_manifest_digest skiff/multiarch "$(other_arch)")" \
		"manifest digest"
}

@test "pull: a Docker manifest list gives the host's Docker schema 2 image" {
	skiff_pull "$PLAIN_ADDR/skiff/dockerlist:latest"
	run_skiff inspect --format '{{.Architecture}} {{.ManifestType}}' "$PLAIN_ADDR/skiff/dockerlist:latest"
	assert_equal "$output" "$(oci_arch) application/vnd.docker.distribution.manifest.v2+json" "image"
	run_skiff inspect --format '{{.Digest}}' "$PLAIN_ADDR/skiff/dockerlist:latest"
	assert_equal "$output" "$(REGISTRY_ADDR=$PLAIN_ADDR registry_manifest_digest skiff/dockerlist multiarch-host)" \
		"manifest digest"
}

@test "pull --platform: a Docker manifest list gives the platform asked for" {
	skiff_pull --platform "linux/$(other_arch)" "$PLAIN_ADDR/skiff/dockerlist:latest"
	run_skiff inspect --format '{{.Architecture}}' "$PLAIN_ADDR/skiff/dockerlist:latest"
	assert_equal "$output" "$(other_arch)" "architecture"
}

@test "pull --arch: the same as --platform with the host's OS" {
	skiff_pull --arch "$(other_arch)" "$PLAIN_ADDR/skiff/multiarch:latest"
	run_skiff inspect --format '{{.Architecture}}' "$PLAIN_ADDR/skiff/multiarch:latest"
	assert_equal "$output" "$(other_arch)" "architecture"
}

@test "pull --platform: a platform the index lacks is an error" {
	skiff_pull 125 --platform linux/mips64le "$PLAIN_ADDR/skiff/multiarch:latest"
	assert_contains "$output" 'no image found in image index for architecture "mips64le", OS "linux"' "error"
	run_skiff images -q
	assert_equal "$output" "" "images"
}

@test "pull: an unknown tag is an error naming it" {
	skiff_pull 125 "$PLAIN_ADDR/skiff/busybox:nosuchtag"
	assert_contains "$output" "Error: " "error"
	assert_contains "$output" "nosuchtag" "error"
	assert_contains "$output" "manifest unknown" "error"
}

@test "pull: a plain HTTP registry without --tls-verify=false says what to do" {
	run_skiff 125 pull "$PLAIN_ADDR/skiff/busybox:latest"
	assert_contains "$output" "--tls-verify=false" "error"
}

@test "pull again: nothing is transferred, the image stays one" {
	skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	assert_contains "$output" "Copying blob" "first pull"
	skiff_pull "$PLAIN_ADDR/skiff/multilayer:v1"
	assert_not_contains "$output" "Copying blob" "second pull"
	run_skiff images -q
	assert_equal "${#lines[@]}" 1 "images"
}

@test "pull again: the registry is asked for the manifest only" {
	start_fake_registry "$LAYOUT"
	skiff_pull "$FAKE_REGISTRY_ADDR/skiff/busybox:busybox"
	: >"$FAKE_REGISTRY_LOG"
	skiff_pull "$FAKE_REGISTRY_ADDR/skiff/busybox:busybox"
	assert_equal "$(grep -v '^[A-Z]* /v2/ ' "$FAKE_REGISTRY_LOG")" \
		"GET /v2/skiff/busybox/manifests/busybox 200" "requests of the second pull"
}

@test "pulls of one image at once: all succeed, one image, nothing left in tmp/" {
	local pids=() pid i
	for i in 1 2 3; do
		"$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" pull -q --tls-verify=false \
			"$PLAIN_ADDR/skiff/multilayer:v1" </dev/null >"$SKIFF_TEST_DIR/pull-$i.log" 2>&1 3>&- &
		pids+=($!)
	done
	for i in 0 1 2; do
		wait "${pids[$i]}" || die "pull $((i + 1)) failed: $(cat "$SKIFF_TEST_DIR/pull-$((i + 1)).log")"
	done
	run_skiff images -q
	assert_equal "${#lines[@]}" 1 "images"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 -maxdepth 1 | wc -l)" 2 "layers"
	assert_equal "$(ls -A "$SKIFF_ROOT/tmp")" "" "tmp/"
}

@test "pull: a layer present under another image is not transferred again" {
	skiff_pull "$PLAIN_ADDR/skiff/busybox:latest"
	# multilayer's base layer differs; multiarch:host has busybox's layer.
	skiff_pull "$PLAIN_ADDR/skiff/multiarch:host"
	assert_not_contains "$output" "Copying blob" "pull of an image with a known layer"
}

@test "pull from a registry with basic auth: refused without credentials" {
	skiff_pull 125 "$BASIC_ADDR/private/busybox:latest"
	assert_contains "$output" "Error: " "error"
	assert_contains "$output" "\"$BASIC_ADDR\" requires authentication" "error"
	run_skiff images -q
	assert_equal "$output" "" "images"
}

@test "pull from a registry with basic auth: wrong credentials are refused" {
	skiff_pull 125 --creds 'skiffuser:wrong' "$BASIC_ADDR/private/busybox:latest"
	assert_contains "$output" "authentication required (HTTP 401)" "error"
	assert_not_contains "$output" "pass --creds" "error"
}

@test "pull --creds: basic auth" {
	skiff_pull --creds 'skiffuser:s3cret pass' "$BASIC_ADDR/private/busybox:latest"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	assert_equal "$output" "$BASIC_ADDR/private/busybox:latest" "images"
}

@test "pull: basic auth credentials from \$XDG_RUNTIME_DIR/containers/auth.json" {
	mkdir -p "$XDG_RUNTIME_DIR/containers"
	jq -n --arg r "$BASIC_ADDR" --arg a "$(printf '%s' 'skiffuser:s3cret pass' | base64 -w0)" \
		'{auths: {($r): {auth: $a}}}' >"$XDG_RUNTIME_DIR/containers/auth.json"
	skiff_pull "$BASIC_ADDR/private/busybox:latest"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	assert_equal "$output" "$BASIC_ADDR/private/busybox:latest" "images"
}

@test "pull: basic auth credentials from \$DOCKER_CONFIG/config.json" {
	mkdir -p "$SKIFF_TEST_DIR/docker"
	jq -n --arg r "$BASIC_ADDR" --arg a "$(printf '%s' 'skiffuser:s3cret pass' | base64 -w0)" \
		'{auths: {($r): {auth: $a}}}' >"$SKIFF_TEST_DIR/docker/config.json"
	DOCKER_CONFIG=$SKIFF_TEST_DIR/docker skiff_pull "$BASIC_ADDR/private/busybox:latest"
}

@test "pull --authfile: credentials from the file given" {
	jq -n --arg r "$BASIC_ADDR" --arg a "$(printf '%s' 'skiffuser:s3cret pass' | base64 -w0)" \
		'{auths: {($r): {auth: $a}}}' >"$SKIFF_TEST_DIR/auth.json"
	skiff_pull --authfile "$SKIFF_TEST_DIR/auth.json" "$BASIC_ADDR/private/busybox:latest"
}

@test "pull from a registry with token auth: anonymous pull with a token" {
	: >"$TOKEN_LOG"
	skiff_pull "$TOKEN_ADDR/public/busybox:latest"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	assert_equal "$output" "$TOKEN_ADDR/public/busybox:latest" "images"
	# One token serves the manifest and the blobs.
	assert_equal "$(cat "$TOKEN_LOG")" "- repository:public/busybox:pull -> 200" "token requests"
}

@test "pull from a registry with token auth: a private repository needs credentials" {
	skiff_pull 125 "$TOKEN_ADDR/private/busybox:latest"
	assert_contains "$output" "authentication required (HTTP 401): log in with \"skiff login $TOKEN_ADDR\" or pass --creds" "error"
	run_skiff images -q
	assert_equal "$output" "" "images"
}

@test "pull --creds from a registry with token auth: the token service gets them" {
	: >"$TOKEN_LOG"
	skiff_pull --creds 'tokenuser:token pass' "$TOKEN_ADDR/private/busybox:latest"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	assert_equal "$output" "$TOKEN_ADDR/private/busybox:latest" "images"
	assert_equal "$(cat "$TOKEN_LOG")" "tokenuser repository:private/busybox:pull -> 200" \
		"token requests"
}

@test "pull killed during the blob download: nothing listed, the next pull works" {
	local pid blob='' layout=$BATS_FILE_TMPDIR/layout
	start_fake_registry "$layout" --stall-blobs
	"$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" pull --tls-verify=false \
		"$FAKE_REGISTRY_ADDR/skiff/busybox:busybox" </dev/null >"$SKIFF_TEST_DIR/pull.log" 2>&1 3>&- &
	pid=$!
	# The fake registry sends half of the layer and stalls: wait until the
	# staged blob has bytes in it.
	for _ in $(seq 1 100); do
		blob=$(find "$SKIFF_ROOT/tmp" -maxdepth 1 -name 'blob-*' -size +0 2>/dev/null | head -n1)
		[[ -n $blob ]] && break
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	[[ -n $blob ]] || {
		kill -9 "$pid" 2>/dev/null
		die "no partial blob appeared; pull output: $(cat "$SKIFF_TEST_DIR/pull.log")"
	}
	kill -9 "$pid"
	wait "$pid" || true

	run_skiff images -q
	assert_equal "$output" "" "images after the kill"
	skiff_pull "$FAKE_REGISTRY_ADDR/skiff/busybox:busybox"
	run_skiff images -q
	assert_equal "${#lines[@]}" 1 "images after the second pull"
	assert_equal "$(find "$SKIFF_ROOT/tmp" -maxdepth 1 -name 'blob-*' | wc -l)" 0 "staged blobs left"
	run_skiff inspect --format '{{.Id}}' "$FAKE_REGISTRY_ADDR/skiff/busybox:busybox"
	assert_equal "$output" "$(oci_manifest "$layout" busybox | jq -r .config.digest)" "image ID"
}
