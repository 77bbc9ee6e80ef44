#!/usr/bin/env bats
# Pulling hostile content: layer tars that try to write outside the layer
# (.. names, symlinks, hardlinks), blobs that are not what the manifest
# says (digest, size, diff_id), and manifests that are not manifests.  The
# bytes come from fixtures/fake-registry.py, which serves an OCI layout as
# it is, where docker-registry would refuse them.  Every pull must fail
# with exit 125 and an error that says what was wrong, list no image, and
# leave nothing outside the store.

load helpers

setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	# Where an escaping entry would land.  Absolute, so that a symlink to
	# it works from anywhere; the ".." names climb to / first.
	export ESCAPE=$BATS_FILE_TMPDIR/escape
	export UP=../../../../../../../../../../../../../../../../../../../../../..
	mkdir -p "$ESCAPE"
	echo secret >"$BATS_FILE_TMPDIR/secret"
	local work=$BATS_FILE_TMPDIR/work
	mkdir -p "$work"

	make_tar "$work/traversal.tar" "file $UP$ESCAPE/traversal evil"
	oci_add_image "$LAYOUT" traversal "$work/traversal.tar"
	make_tar "$work/traversal-inside.tar" "dir a" "file a/../../traversal-inside evil"
	oci_add_image "$LAYOUT" traversal-inside "$work/traversal-inside.tar"
	make_tar "$work/symlink-abs.tar" "symlink link $ESCAPE" "file link/symlink-abs evil"
	oci_add_image "$LAYOUT" symlink-abs "$work/symlink-abs.tar"
	make_tar "$work/symlink-rel.tar" "symlink link $UP$ESCAPE" "file link/symlink-rel evil"
	oci_add_image "$LAYOUT" symlink-rel "$work/symlink-rel.tar"
	make_tar "$work/symlink-dir.tar" "dir d" "symlink d/up ../.." "file d/up/symlink-dir evil"
	oci_add_image "$LAYOUT" symlink-dir "$work/symlink-dir.tar"
	make_tar "$work/hardlink-dotdot.tar" "hardlink stolen $UP$BATS_FILE_TMPDIR/secret"
	oci_add_image "$LAYOUT" hardlink-dotdot "$work/hardlink-dotdot.tar"
	make_tar "$work/hardlink-symlink.tar" "symlink link $BATS_FILE_TMPDIR" \
		"hardlink stolen link/secret"
	oci_add_image "$LAYOUT" hardlink-symlink "$work/hardlink-symlink.tar"
	make_tar "$work/hardlink-missing.tar" "hardlink stolen /nonexistent"
	oci_add_image "$LAYOUT" hardlink-missing "$work/hardlink-missing.tar"
	make_tar "$work/lower.tar" "symlink link $ESCAPE"
	make_tar "$work/upper.tar" "dir link" "file link/lower-symlink evil"
	oci_add_image "$LAYOUT" lower-symlink "$work/lower.tar" "$work/upper.tar"

	make_tar "$work/good.tar" "dir etc" "file etc/hello hello"
	oci_add_image "$LAYOUT" good "$work/good.tar"
	export GOOD_MANIFEST
	GOOD_MANIFEST=$(oci_manifest "$LAYOUT" good)
	build_bad_blob_images "$work"
	build_bad_manifests "$work"
	start_fake_registry "$LAYOUT"
}

# make_tar OUT SPEC...: a layer tar made entry by entry, whatever the
# names: "file NAME CONTENT", "dir NAME", "symlink NAME TARGET",
# "hardlink NAME TARGET".
make_tar() {
	python3 - "$@" <<'EOF'
import io, sys, tarfile
with tarfile.open(sys.argv[1], "w", format=tarfile.GNU_FORMAT) as tar:
    for spec in sys.argv[2:]:
        kind, name, arg = (spec.split(" ", 2) + [""])[:3]
        info = tarfile.TarInfo(name)
        info.mtime = 1700000000
        data = None
        if kind == "file":
            data = arg.encode() + b"\n"
            info.size = len(data)
            info.mode = 0o644
        elif kind == "dir":
            info.type = tarfile.DIRTYPE
            info.mode = 0o755
        elif kind == "symlink":
            info.type = tarfile.SYMTYPE
            info.linkname = arg
            info.mode = 0o777
        elif kind == "hardlink":
            info.type = tarfile.LNKTYPE
            info.linkname = arg
            info.mode = 0o644
        else:
            sys.exit(f"make_tar: unknown entry kind {kind}")
        tar.addfile(info, io.BytesIO(data) if data is not None else None)
EOF
}

# Copy the good image's manifest with jq FILTER applied, store it as TAG.
derive_manifest() {
	local tag=$1 filter=$2 work=$BATS_FILE_TMPDIR/work
	jq -c "$filter" <<<"$GOOD_MANIFEST" >"$work/$tag.json"
	oci_set_manifest "$LAYOUT" "$tag" "$work/$tag.json"
}

# Blobs that are not what the manifest says.  The blob files of the fake
# registry's layout are served as they are, whatever their names.
build_bad_blob_images() {
	local work=$1 config blob
	config=$(jq -r '.config.digest' <<<"$GOOD_MANIFEST")

	# A layer whose bytes do not hash to its digest, the same size and
	# still a valid gzip stream of the same tar: only the digest can
	# tell (the byte changed is in the gzip header's mtime field).
	make_tar "$work/mismatch.tar" "dir etc" "file etc/mismatch mismatch"
	oci_add_image "$LAYOUT" layer-mismatch "$work/mismatch.tar"
	blob=$(oci_blob_path "$LAYOUT" "$(oci_manifest "$LAYOUT" layer-mismatch | jq -r '.layers[0].digest')")
	printf '\x42' | dd of="$blob" bs=1 seek=4 conv=notrunc status=none

	# A config that does not hash to its digest.
	make_tar "$work/config-mismatch.tar" "dir etc" "file etc/config-mismatch x"
	OCI_IMAGE_CONFIG='{"Cmd":["config-mismatch"]}' oci_add_image "$LAYOUT" config-mismatch \
		"$work/config-mismatch.tar"
	blob=$(oci_blob_path "$LAYOUT" "$OCI_CONFIG_DIGEST")
	sed -i 's/config-mismatch/config-MISMATCH/' "$blob"

	# A layer blob cut in half; the manifest keeps the full size.
	make_tar "$work/truncated.tar" "dir etc" "file etc/truncated $(head -c 20000 /dev/urandom | base64 -w0)"
	oci_add_image "$LAYOUT" truncated "$work/truncated.tar"
	blob=$(oci_blob_path "$LAYOUT" "$(oci_manifest "$LAYOUT" truncated | jq -r '.layers[0].digest')")
	truncate -s $(($(stat -c %s "$blob") / 2)) "$blob"

	# A manifest saying a smaller size than the blob has.
	derive_manifest size-smaller '.layers[0].size -= 10'
	# The config's diff_id is not the layer's.
	jq -c '.rootfs.diff_ids = ["sha256:'"$(printf '0%.0s' {1..64})"'"]' \
		"$(oci_blob_path "$LAYOUT" "$config")" >"$work/bad-diffid-config.json"
	read -r blob _ < <(oci_put_blob "$LAYOUT" "$work/bad-diffid-config.json")
	derive_manifest diffid-mismatch ".config.digest = \"$blob\" | .config.size = $(stat -c %s "$work/bad-diffid-config.json")"
	# The config names two layers, the manifest one.
	jq -c '.rootfs.diff_ids += .rootfs.diff_ids' \
		"$(oci_blob_path "$LAYOUT" "$config")" >"$work/two-diffids-config.json"
	read -r blob _ < <(oci_put_blob "$LAYOUT" "$work/two-diffids-config.json")
	derive_manifest layer-count ".config.digest = \"$blob\" | .config.size = $(stat -c %s "$work/two-diffids-config.json")"
	# A layer the registry does not have.
	derive_manifest missing-blob ".layers[0].digest = \"sha256:$(printf 'e%.0s' {1..64})\""
}

build_bad_manifests() {
	local work=$1
	printf '{"schemaVersion": 2, "config": ' >"$work/not-json.json"
	oci_set_manifest "$LAYOUT" not-json "$work/not-json.json"
	derive_manifest no-config 'del(.config)'
	derive_manifest no-layers 'del(.layers)'
	derive_manifest layers-not-array '.layers = "sha256:abc"'
	derive_manifest bad-digest '.layers[0].digest = "sha256:../../../etc/passwd"'
	derive_manifest schema1 '.schemaVersion = 1'
	derive_manifest negative-size '.layers[0].size = -1'
	# The manifest by digest, served with other bytes than that digest's.
	cp "$work/no-config.json" "$LAYOUT/blobs/sha256/$(printf 'd%.0s' {1..64})"
}

# pull_fails TAG SUBSTRING...: the pull exits 125 with each SUBSTRING in its
# error, and the store lists no image.
pull_fails() {
	local tag=$1 part
	shift
	run_skiff 125 pull --tls-verify=false "$FAKE_REGISTRY_ADDR/evil/image:$tag"
	assert_contains "$output" "Error: " "error"
	for part in "$@"; do
		assert_contains "$output" "$part" "error"
	done
	run_skiff images -q
	assert_equal "$output" "" "images"
	# No staged blob or layer, no trash, no lease is left behind.
	assert_equal "$(ls -A "$SKIFF_ROOT/tmp")" "" "tmp/"
}

assert_nothing_escaped() {
	local left
	left=$(cd "$ESCAPE" && ls -A)
	assert_equal "$left" "" "files created in $ESCAPE"
	assert_equal "$(stat -c %h "$BATS_FILE_TMPDIR/secret")" 1 "links to the secret file"
	assert_equal "$(cat "$BATS_FILE_TMPDIR/secret")" secret "the secret file"
}

@test "the fake registry serves a good image that pulls" {
	run_skiff pull --tls-verify=false "$FAKE_REGISTRY_ADDR/evil/image:good"
	run_skiff images -q
	assert_equal "${#lines[@]}" 1 "images"
}

@test "layer: a name climbing out with .. is refused" {
	pull_fails traversal '".." is not allowed in a layer'
	assert_nothing_escaped
}

@test "layer: a name climbing out through a directory with .. is refused" {
	pull_fails traversal-inside '".." is not allowed in a layer'
	[[ ! -e $SKIFF_ROOT/traversal-inside && ! -e $SKIFF_ROOT/tmp/traversal-inside ]] ||
		die "traversal-inside was written in the store"
	assert_nothing_escaped
}

@test "layer: an entry below an absolute symlink is refused" {
	pull_fails symlink-abs '"link" is not a directory inside the layer (symlinks are never followed)'
	assert_nothing_escaped
}

@test "layer: an entry below a relative symlink climbing out is refused" {
	pull_fails symlink-rel '"link" is not a directory inside the layer (symlinks are never followed)'
	assert_nothing_escaped
}

@test "layer: an entry below a symlink to a parent directory is refused" {
	pull_fails symlink-dir '"d/up" is not a directory inside the layer (symlinks are never followed)'
	assert_nothing_escaped
}

@test "layer: a hardlink climbing out with .. is refused" {
	pull_fails hardlink-dotdot '/secret": ".." is not allowed in a layer'
	assert_nothing_escaped
}

@test "layer: a hardlink through a symlink is refused" {
	pull_fails hardlink-symlink '"link" is not a directory inside the layer (symlinks are never followed)'
	assert_nothing_escaped
}

@test "layer: a hardlink to a missing target is refused" {
	pull_fails hardlink-missing 'hardlink "stolen": no "nonexistent" earlier in the layer'
	assert_nothing_escaped
}

@test "layer: a symlink in a lower layer is not followed by the layer above" {
	# Each layer is its own tree, so the upper layer's "link/" is a
	# directory of its own: the pull may succeed, but writes nothing out.
	run_skiff '?' pull --tls-verify=false "$FAKE_REGISTRY_ADDR/evil/image:lower-symlink"
	assert_nothing_escaped
}

@test "blob: a layer that does not match its digest is refused" {
	pull_fails layer-mismatch "digest mismatch"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 | wc -l)" 0 "layers/"
	assert_equal "$(find "$SKIFF_ROOT/blobs" -type f | wc -l)" 0 "blobs"
}

@test "blob: a config that does not match its digest is refused" {
	pull_fails config-mismatch "fetch config: " "digest mismatch"
}

@test "blob: a truncated layer is refused" {
	local size
	size=$(oci_manifest "$LAYOUT" truncated | jq -r '.layers[0].size')
	pull_fails truncated "of $size bytes"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 | wc -l)" 0 "layers/"
}

@test "blob: a layer larger than the manifest says is refused" {
	pull_fails size-smaller "more data than the expected"
}

@test "blob: a layer the registry lacks is an error naming it" {
	pull_fails missing-blob "sha256:$(printf 'e%.0s' {1..64}): not found"
}

@test "config: a diff_id that is not the layer's is refused" {
	pull_fails diffid-mismatch "but the config says sha256:$(printf '0%.0s' {1..64})"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 | wc -l)" 0 "layers/"
}

@test "config: more diff_ids than the manifest has layers is refused" {
	pull_fails layer-count "2 diff_ids for 1 layers"
}

@test "manifest: invalid JSON is refused" {
	pull_fails not-json "parse manifest"
}

@test "manifest: one without a config is refused" {
	pull_fails no-config 'missing "config"'
}

@test "manifest: one without layers is refused" {
	pull_fails no-layers 'missing "layers"'
}

@test "manifest: layers that are not an array are refused" {
	pull_fails layers-not-array '"layers" must be an array'
}

@test "manifest: an invalid layer digest is refused" {
	pull_fails bad-digest 'invalid digest "sha256:../../../etc/passwd"'
	assert_nothing_escaped
}

@test "manifest: schemaVersion 1 is refused" {
	pull_fails schema1 "unsupported schemaVersion 1"
}

@test "manifest: a negative size is refused" {
	pull_fails negative-size "invalid size -1"
}

@test "manifest: content that does not match the digest pulled by is refused" {
	run_skiff 125 pull --tls-verify=false \
		"$FAKE_REGISTRY_ADDR/evil/image@sha256:$(printf 'd%.0s' {1..64})"
	assert_contains "$output" "digest mismatch" "error"
	run_skiff images -q
	assert_equal "$output" "" "images"
}
