#!/usr/bin/env bats
# skiff save, load and import: images pulled from a local registry go out
# as docker-archive and OCI archives (and their directory forms) and come
# back with the same ID; archives made by skopeo load; rootfs tarballs
# become images with their --change instructions; and hostile archives
# (paths out of the archive, symlinks, corrupt or truncated content) fail
# with a clear error and store nothing.

load helpers

setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	build_busybox_image "$LAYOUT" busybox
	build_multilayer_image "$LAYOUT" multilayer
	start_registry
	export BUSYBOX_REF=$REGISTRY_ADDR/skiff/busybox:latest
	export MULTI_REF=$REGISTRY_ADDR/skiff/multilayer:v1
	push_image "$LAYOUT" busybox "$BUSYBOX_REF"
	push_image "$LAYOUT" multilayer "$MULTI_REF"
	export BUSYBOX_ID MULTI_ID
	BUSYBOX_ID=$(oci_manifest "$LAYOUT" busybox | jq -r .config.digest)
	MULTI_ID=$(oci_manifest "$LAYOUT" multilayer | jq -r .config.digest)
	# A docker-archive written by an independent tool.
	export SKOPEO_ARCHIVE=$BATS_FILE_TMPDIR/skopeo-multilayer.tar
	skopeo_archive "$LAYOUT" multilayer "$SKOPEO_ARCHIVE" example.com/skopeo/multi:v2
}

# skopeo_archive LAYOUT TAG FILE NAME: LAYOUT:TAG as docker-archive FILE
# named NAME, with skopeo kept away from the user's configuration.
skopeo_archive() {
	local dir
	dir=$(skopeo_env_dir)
	XDG_DATA_HOME=$dir/data skopeo --insecure-policy --policy "$dir/policy.json" \
		--registries-conf "$dir/registries.conf" \
		copy --quiet "oci:$1:$2" "docker-archive:$3:$4"
}

pull() {
	local ref
	for ref in "$@"; do
		run_skiff pull -q --tls-verify=false "$ref"
	done
}

# skiff's stdout, for a command substitution.
skiff_out() {
	"$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" "$@"
}

image_id() {
	skiff_out inspect --format '{{.Id}}' "$1"
}

# The store must hold no image, after a load that should have failed.
assert_no_images() {
	run_skiff images -q
	assert_equal "$output" "" "images after the failed load"
}

# unpack TAR: its files in a new directory, printed; writable, since
# skopeo writes them read-only.
unpack() {
	local dir
	dir=$(mktemp -d "$SKIFF_TEST_DIR/unpacked.XXXXXX")
	tar -xf "$1" -C "$dir"
	chmod -R u+w "$dir"
	echo "$dir"
}

# repack DIR TAR: DIR's files as TAR, symlinks kept.
repack() {
	tar -cf "$2" -C "$1" .
}

# Set manifest.json's first image's Layers[0] to PATH in DIR.
set_first_layer() {
	local dir=$1 path=$2
	jq -c --arg p "$path" '.[0].Layers[0] = $p' "$dir/manifest.json" >"$dir/manifest.new"
	mv "$dir/manifest.new" "$dir/manifest.json"
}

# ---------------------------------------------------------------------------
# save and load

@test "save: a docker-archive loads back with the same ID and name" {
	local archive=$SKIFF_TEST_DIR/multi.tar
	pull "$MULTI_REF"
	run_skiff save -q -o "$archive" "$MULTI_REF"
	assert_equal "$(tar -xOf "$archive" manifest.json | jq -c '.[0].RepoTags')" \
		"[\"$MULTI_REF\"]" "RepoTags"
	assert_equal "$(tar -xOf "$archive" manifest.json | jq -r '.[0].Config')" \
		"${MULTI_ID#sha256:}.json" "Config"
	run_skiff rmi "$MULTI_REF"
	run_skiff load -i "$archive"
	assert_contains "$output" "Loaded image: $MULTI_REF" "load output"
	assert_equal "$(image_id "$MULTI_REF")" "$MULTI_ID" "ID after load"
	assert_equal "$(skiff_out images --format '{{.Repository}}:{{.Tag}}')" "$MULTI_REF" "images"
}

@test "save: docker-archive layers are the uncompressed tars of the diff IDs" {
	local archive=$SKIFF_TEST_DIR/multi.tar layer i=0 config
	pull "$MULTI_REF"
	run_skiff save -o "$archive" "$MULTI_REF"
	config=$(tar -xOf "$archive" "${MULTI_ID#sha256:}.json")
	for layer in $(tar -xOf "$archive" manifest.json | jq -r '.[0].Layers[]'); do
		assert_equal "sha256:$(tar -xOf "$archive" "$layer" | sha256sum | cut -d' ' -f1)" \
			"$(jq -r ".rootfs.diff_ids[$i]" <<<"$config")" "layer $i"
		i=$((i + 1))
	done
	assert_equal "$i" 2 "number of layers"
	assert_equal "$(tar -xOf "$archive" repositories | jq -r 'keys[0]')" \
		"$REGISTRY_ADDR/skiff/multilayer" "repositories"
}

@test "save --format oci-archive: blobs and manifest digest are kept" {
	local archive=$SKIFF_TEST_DIR/multi-oci.tar digest
	digest=$(registry_manifest_digest skiff/multilayer v1)
	pull "$MULTI_REF"
	run_skiff save --format oci-archive -o "$archive" "$MULTI_REF"
	assert_equal "$(tar -xOf "$archive" index.json | jq -r '.manifests[0].digest')" \
		"$digest" "index digest"
	assert_equal "$(tar -xOf "$archive" index.json |
		jq -r '.manifests[0].annotations["org.opencontainers.image.ref.name"]')" \
		"$MULTI_REF" "ref.name"
	assert_equal "$(tar -xOf "$archive" "blobs/sha256/${digest#sha256:}" | jq -c .)" \
		"$(registry_manifest skiff/multilayer v1 | jq -c .)" "manifest"
	run_skiff rmi "$MULTI_REF"
	run_skiff load -q -i "$archive"
	assert_equal "$output" "Loaded image: $MULTI_REF" "load output"
	assert_equal "$(image_id "$MULTI_REF")" "$MULTI_ID" "ID after load"
	assert_equal "$(skiff_out inspect --format '{{.Digest}}' "$MULTI_REF")" "$digest" "Digest"
}

@test "save to stdout and load from stdin" {
	pull "$BUSYBOX_REF"
	run_skiff save -o "$SKIFF_TEST_DIR/by-stdout.tar" "$BUSYBOX_REF"
	skiff_out save "$BUSYBOX_REF" >"$SKIFF_TEST_DIR/stdout.tar"
	cmp "$SKIFF_TEST_DIR/by-stdout.tar" "$SKIFF_TEST_DIR/stdout.tar" ||
		die "stdout and -o differ"
	run_skiff rmi "$BUSYBOX_REF"
	run bash -c '"$1" --root "$2" --runroot "$3" load -q <"$4"' \
		_ "$SKIFF" "$SKIFF_ROOT" "$SKIFF_RUNROOT" "$SKIFF_TEST_DIR/stdout.tar"
	assert_equal "$status" 0 "load status"
	assert_equal "$output" "Loaded image: $BUSYBOX_REF" "load output"
	assert_equal "$(image_id "$BUSYBOX_REF")" "$BUSYBOX_ID" "ID after load"
}

@test "save --format oci-dir and docker-dir: directories that load back" {
	local format
	pull "$MULTI_REF"
	for format in oci-dir docker-dir; do
		run_skiff save --format "$format" -o "$SKIFF_TEST_DIR/$format" "$MULTI_REF"
	done
	[[ -f $SKIFF_TEST_DIR/oci-dir/oci-layout ]] || die "no oci-layout"
	assert_equal "$(cat "$SKIFF_TEST_DIR/docker-dir/version")" \
		"Directory Transport Version: 1.1" "dir version"
	run_skiff rmi "$MULTI_REF"
	run_skiff load -q -i "$SKIFF_TEST_DIR/docker-dir"
	assert_equal "$output" "Loaded image: $MULTI_ID" "docker-dir carries no name"
	run_skiff load -q -i "$SKIFF_TEST_DIR/oci-dir"
	assert_equal "$output" "Loaded image: $MULTI_REF" "oci-dir load output"
	assert_equal "$(image_id "$MULTI_REF")" "$MULTI_ID" "ID after load"
}

@test "save -m: several images in one docker-archive" {
	local archive=$SKIFF_TEST_DIR/both.tar
	pull "$BUSYBOX_REF" "$MULTI_REF"
	run_skiff save -m -o "$archive" "$BUSYBOX_REF" "$MULTI_REF"
	assert_equal "$(tar -xOf "$archive" manifest.json | jq length)" 2 "images in manifest.json"
	run_skiff rmi "$BUSYBOX_REF" "$MULTI_REF"
	run_skiff load -q -i "$archive"
	assert_equal "$output" "$(printf 'Loaded image: %s\n' "$BUSYBOX_REF" "$MULTI_REF")" "output"
	assert_equal "$(image_id "$BUSYBOX_REF")" "$BUSYBOX_ID" "busybox ID"
	assert_equal "$(image_id "$MULTI_REF")" "$MULTI_ID" "multilayer ID"
}

@test "save IMAGE TAG: the extra argument is another name in the archive" {
	local archive=$SKIFF_TEST_DIR/tags.tar
	pull "$BUSYBOX_REF"
	run_skiff save -o "$archive" "$BUSYBOX_REF" example.com/other:1
	assert_equal "$(tar -xOf "$archive" manifest.json | jq -c '.[0].RepoTags')" \
		"[\"$BUSYBOX_REF\",\"example.com/other:1\"]" "RepoTags"
}

@test "save by ID: the archive names no image and load prints the ID" {
	local archive=$SKIFF_TEST_DIR/by-id.tar
	pull "$BUSYBOX_REF"
	run_skiff save -o "$archive" "${BUSYBOX_ID:7:12}"
	assert_equal "$(tar -xOf "$archive" manifest.json | jq -c '.[0].RepoTags')" "[]" "RepoTags"
	run_skiff rmi "$BUSYBOX_REF"
	run_skiff load -q -i "$archive"
	assert_equal "$output" "Loaded image: $BUSYBOX_ID" "load output"
}

@test "save: an unknown image fails and leaves no file" {
	run_skiff 125 save -o "$SKIFF_TEST_DIR/none.tar" example.com/nothing:here
	assert_contains "$output" "No such image: example.com/nothing:here" "error"
	[[ ! -e $SKIFF_TEST_DIR/none.tar ]] || die "a file was left behind"
	assert_equal "$(find "$SKIFF_TEST_DIR" -maxdepth 1 -name 'none.tar*')" "" "temporaries"
}

@test "save --format oci-archive: one image only" {
	pull "$BUSYBOX_REF" "$MULTI_REF"
	run_skiff 125 save --format oci-archive -m -o "$SKIFF_TEST_DIR/x.tar" "$BUSYBOX_REF" "$MULTI_REF"
	assert_contains "$output" "--multi-image-archive can only be used with docker-archive" "error"
}

@test "load: a docker-archive made by skopeo, with symlinked legacy layers" {
	tar -tvf "$SKOPEO_ARCHIVE" | grep -q '^l' || die "skopeo's archive has no symlinks"
	run_skiff load -q -i "$SKOPEO_ARCHIVE"
	assert_equal "$output" "Loaded image: example.com/skopeo/multi:v2" "output"
	assert_equal "$(image_id example.com/skopeo/multi:v2)" "$MULTI_ID" "ID"
	assert_equal "$(skiff_out inspect --format '{{json .RootFS.Layers}}' example.com/skopeo/multi:v2)" \
		"$(oci_blob_path "$LAYOUT" "$MULTI_ID" | xargs jq -c .rootfs.diff_ids)" "diff IDs"
}

@test "load: a gzip-compressed archive" {
	gzip -c "$SKOPEO_ARCHIVE" >"$SKIFF_TEST_DIR/archive.tar.gz"
	run_skiff load -q -i "$SKIFF_TEST_DIR/archive.tar.gz"
	assert_equal "$output" "Loaded image: example.com/skopeo/multi:v2" "output"
}

@test "load: the layers are extracted, owners included" {
	local layers chain
	run_skiff load -q -i "$SKOPEO_ARCHIVE"
	layers=$(skiff_out inspect --format '{{json .RootFS.Layers}}' example.com/skopeo/multi:v2)
	# The top layer's chain ID (OCI image spec): sha256 of "DIFF1 DIFF2".
	chain=$(printf '%s %s' "$(jq -r '.[0]' <<<"$layers")" "$(jq -r '.[1]' <<<"$layers")" |
		sha256sum | cut -d' ' -f1)
	run_skiff unshare stat -c '%u:%g %a' \
		"$SKIFF_ROOT/layers/$chain/diff/etc/skiff-fixture/owned.txt"
	assert_equal "$output" "1000:1000 640" "owned.txt in the top layer"
}

@test "load: stdin that is not an archive fails with a clear error" {
	echo "not an archive" >"$SKIFF_TEST_DIR/junk"
	run_skiff 125 load -i "$SKIFF_TEST_DIR/junk"
	assert_contains "$output" "Unrecognized archive format" "error"
	assert_no_images
}

# ---------------------------------------------------------------------------
# hostile archives

@test "load: a manifest.json layer path out of the archive fails, nothing stored" {
	local dir
	dir=$(unpack "$SKOPEO_ARCHIVE")
	set_first_layer "$dir" ../../etc/passwd
	repack "$dir" "$SKIFF_TEST_DIR/evil.tar"
	run_skiff 125 load -i "$SKIFF_TEST_DIR/evil.tar"
	assert_contains "$output" 'invalid path "../../etc/passwd": it leads outside the archive' "error"
	assert_no_images
}

@test "load: a symlink in the archive pointing out of it fails" {
	local dir
	dir=$(unpack "$SKOPEO_ARCHIVE")
	ln -s ../../../../etc/passwd "$dir/evil.tar"
	set_first_layer "$dir" evil.tar
	repack "$dir" "$SKIFF_TEST_DIR/evil.tar"
	run_skiff 125 load -i "$SKIFF_TEST_DIR/evil.tar"
	assert_contains "$output" 'symlink "evil.tar" -> "../../../../etc/passwd"' "error"
	assert_contains "$output" "leads outside the archive" "error"
	assert_no_images
}

@test "load: a layer file missing from the archive fails" {
	local dir layer
	dir=$(unpack "$SKOPEO_ARCHIVE")
	layer=$(jq -r '.[0].Layers[1]' "$dir/manifest.json")
	rm "$dir/$layer"
	repack "$dir" "$SKIFF_TEST_DIR/evil.tar"
	run_skiff 125 load -i "$SKIFF_TEST_DIR/evil.tar"
	assert_contains "$output" "the archive has no file \"$layer\"" "error"
	assert_no_images
}

@test "load: a layer whose content does not match its diff ID fails" {
	local dir layer
	dir=$(unpack "$SKOPEO_ARCHIVE")
	layer=$(jq -r '.[0].Layers[1]' "$dir/manifest.json")
	mkdir "$dir/other"
	echo intruder >"$dir/other/file"
	tar -cf "$dir/$layer" -C "$dir/other" file
	rm -r "$dir/other"
	repack "$dir" "$SKIFF_TEST_DIR/evil.tar"
	run_skiff 125 load -i "$SKIFF_TEST_DIR/evil.tar"
	assert_contains "$output" "but the config says diff ID" "error"
	assert_no_images
}

@test "load: an OCI archive with a corrupt blob fails" {
	local dir=$SKIFF_TEST_DIR/layout digest
	cp -r "$LAYOUT" "$dir"
	digest=$(oci_manifest "$dir" busybox | jq -r '.layers[0].digest')
	printf 'X' | dd of="$(oci_blob_path "$dir" "$digest")" bs=1 seek=100 conv=notrunc 2>/dev/null
	repack "$dir" "$SKIFF_TEST_DIR/evil.tar"
	run_skiff 125 load -i "$SKIFF_TEST_DIR/evil.tar"
	assert_contains "$output" "blob $digest in the archive is corrupt" "error"
	assert_no_images
}

@test "load: a truncated archive fails" {
	head -c 1500000 "$SKOPEO_ARCHIVE" >"$SKIFF_TEST_DIR/truncated.tar"
	run_skiff 125 load -i "$SKIFF_TEST_DIR/truncated.tar"
	assert_contains "$output" "Truncated tar archive" "error"
	assert_no_images
}

@test "load: a manifest.json over the size limit fails" {
	local dir
	dir=$(unpack "$SKOPEO_ARCHIVE")
	head -c $((9 << 20)) /dev/zero | tr '\0' ' ' >>"$dir/manifest.json"
	repack "$dir" "$SKIFF_TEST_DIR/evil.tar"
	run_skiff 125 load -i "$SKIFF_TEST_DIR/evil.tar"
	assert_contains "$output" '"manifest.json": 9' "error"
	assert_contains "$output" "is more than the 8388608 allowed" "error"
	assert_no_images
}

# ---------------------------------------------------------------------------
# import

@test "import: a directory's tarball with --change and --message" {
	local rootfs=$SKIFF_TEST_DIR/rootfs id config
	fixture_busybox_rootfs "$rootfs"
	layer_tar "$SKIFF_TEST_DIR/rootfs.tar" "$rootfs"
	run_skiff --separate-stderr import -c 'CMD ["sh", "-c", "echo hi"]' -c 'ENV GREETING=hello' \
		-c 'WORKDIR /srv' -m 'from a test' "$SKIFF_TEST_DIR/rootfs.tar" example.com/imported:1
	id=$output
	assert_match "$id" '^sha256:[0-9a-f]{64}$' "printed ID"
	assert_equal "$(image_id example.com/imported:1)" "$id" "ID of the name"
	config=$(skiff_out inspect --format '{{json .Config}}' example.com/imported:1)
	assert_equal "$(jq -c .Cmd <<<"$config")" '["sh","-c","echo hi"]' "Cmd"
	assert_equal "$(jq -c .Env <<<"$config")" '["GREETING=hello"]' "Env"
	assert_equal "$(jq -r .WorkingDir <<<"$config")" /srv "WorkingDir"
	assert_equal "$(skiff_out inspect --format '{{.Comment}}' example.com/imported:1)" \
		"from a test" "Comment"
	assert_equal "$(skiff_out inspect --format '{{json .RootFS.Layers}}' example.com/imported:1)" \
		"[\"sha256:$(sha256_of "$SKIFF_TEST_DIR/rootfs.tar")\"]" "diff ID"
	assert_equal "$(skiff_out inspect --format '{{.Architecture}}' example.com/imported:1)" \
		"$(oci_arch)" "Architecture"
}

@test "import -: a gzip tarball from stdin, then saved and loaded again" {
	local rootfs=$SKIFF_TEST_DIR/rootfs id
	fixture_busybox_rootfs "$rootfs"
	layer_tar "$SKIFF_TEST_DIR/rootfs.tar" "$rootfs"
	gzip -c "$SKIFF_TEST_DIR/rootfs.tar" >"$SKIFF_TEST_DIR/rootfs.tar.gz"
	id=$(skiff_out import -q - example.com/gz:1 <"$SKIFF_TEST_DIR/rootfs.tar.gz")
	assert_match "$id" '^sha256:[0-9a-f]{64}$' "printed ID"
	assert_equal "$(skiff_out inspect --format '{{json .RootFS.Layers}}' example.com/gz:1)" \
		"[\"sha256:$(sha256_of "$SKIFF_TEST_DIR/rootfs.tar")\"]" "diff ID"
	run_skiff save --format oci-archive -o "$SKIFF_TEST_DIR/gz.tar" example.com/gz:1
	run_skiff rmi example.com/gz:1
	run_skiff load -q -i "$SKIFF_TEST_DIR/gz.tar"
	assert_equal "$(image_id example.com/gz:1)" "$id" "ID after save and load"
}

@test "import: an unknown --change instruction fails before storing anything" {
	local rootfs=$SKIFF_TEST_DIR/rootfs
	mkdir -p "$rootfs"
	echo x >"$rootfs/file"
	layer_tar "$SKIFF_TEST_DIR/rootfs.tar" "$rootfs"
	run_skiff 125 import -c 'RUN rm -rf /' "$SKIFF_TEST_DIR/rootfs.tar"
	assert_contains "$output" 'unknown instruction "RUN"' "error"
	assert_no_images
}

@test "import: a file that is not a tarball fails and stores no image" {
	echo "plain text" >"$SKIFF_TEST_DIR/not.tar"
	run_skiff 125 import "$SKIFF_TEST_DIR/not.tar" example.com/bad:1
	assert_contains "$output" "import \"$SKIFF_TEST_DIR/not.tar\"" "error"
	assert_no_images
}
