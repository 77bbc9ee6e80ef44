#!/usr/bin/env bats
# The test fixtures themselves: the images built here without skiff, pushed
# with an independent client (skopeo) to a real registry, must come back
# from it unchanged.  Later tests pull these images with skiff, so a broken
# fixture has to show up here, not as a puzzling pull failure.

load helpers

setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	start_registry
	build_busybox_image "$LAYOUT" busybox
	build_multilayer_image "$LAYOUT" multilayer
	push_image "$LAYOUT" busybox "$REGISTRY_ADDR/skiff/busybox:latest"
	push_image "$LAYOUT" multilayer "$REGISTRY_ADDR/skiff/multilayer:v1"
}

# The registry's copy of a manifest must list exactly the fixture's blobs.
assert_same_blobs() {
	local repo=$1 ref=$2 tag=$3 remote fixture
	remote=$(registry_manifest "$repo" "$ref") || die "cannot read $repo:$ref"
	fixture=$(oci_manifest "$LAYOUT" "$tag")
	assert_equal "$(jq -r '.layers[].digest' <<<"$remote")" \
		"$(jq -r '.layers[].digest' <<<"$fixture")" "layer digests"
	assert_equal "$(jq -r '.config.digest' <<<"$remote")" \
		"$(jq -r '.config.digest' <<<"$fixture")" "config digest"
}

@test "fixture layout: every blob's name is its sha256" {
	local blob n=0
	for blob in "$LAYOUT"/blobs/sha256/*; do
		assert_equal "$(sha256_of "$blob")" "$(basename "$blob")" "sha256 of $blob"
		n=$((n + 1))
	done
	# busybox: layer, config, manifest; multilayer: two layers, config,
	# manifest.
	assert_equal "$n" 7 "number of blobs"
}

@test "fixture config: diff_ids are the sha256 of the uncompressed layers" {
	local manifest config digest i=0
	manifest=$(oci_manifest "$LAYOUT" multilayer)
	config=$(cat "$(oci_blob_path "$LAYOUT" "$(jq -r .config.digest <<<"$manifest")")")
	for digest in $(jq -r '.layers[].digest' <<<"$manifest"); do
		assert_equal "sha256:$(gzip -dc "$(oci_blob_path "$LAYOUT" "$digest")" | sha256sum | cut -d' ' -f1)" \
			"$(jq -r ".rootfs.diff_ids[$i]" <<<"$config")" "diff_id $i"
		i=$((i + 1))
	done
	assert_equal "$(jq -r .architecture <<<"$config")" "$(oci_arch)" architecture
	assert_equal "$(jq -r .os <<<"$config")" linux os
	assert_equal "$(jq -c .config.Cmd <<<"$config")" '["sh"]' Cmd
}

@test "fixture build is reproducible" {
	local again=$BATS_TEST_TMPDIR/again
	build_multilayer_image "$again" multilayer
	assert_equal "$(jq -c . <<<"$(oci_manifest "$again" multilayer)")" \
		"$(jq -c . <<<"$(oci_manifest "$LAYOUT" multilayer)")" "rebuilt manifest"
}

@test "fixture busybox layer holds busybox, its applets and /etc/passwd" {
	local digest listing
	digest=$(oci_manifest "$LAYOUT" busybox | jq -r '.layers[0].digest')
	listing=$(tar -tvzf "$(oci_blob_path "$LAYOUT" "$digest")")
	assert_match "$listing" $'(^|\n)-rwxr-xr-x 0/0 +[0-9]+ [^\n]* bin/busybox\n' "bin/busybox"
	assert_match "$listing" $'(^|\n)lrwxrwxrwx 0/0 [^\n]* bin/sh -> busybox\n' "bin/sh"
	assert_match "$listing" $'(^|\n)drwxrwxrwt 0/0 [^\n]* tmp/\n' "tmp"
	assert_contains "$(tar -xzOf "$(oci_blob_path "$LAYOUT" "$digest")" etc/passwd)" \
		"nobody:x:65534:65534:" "etc/passwd"
}

@test "fixture multilayer: layer 2 has the whiteout, opaque marker and owned file" {
	local digest listing
	digest=$(oci_manifest "$LAYOUT" multilayer | jq -r '.layers[1].digest')
	listing=$(tar -tvzf "$(oci_blob_path "$LAYOUT" "$digest")")
	assert_match "$listing" $'(^|\n)-rw-r--r-- 0/0 +0 [^\n]* etc/skiff-fixture/\\.wh\\.old\\.txt\n' "whiteout"
	assert_match "$listing" $'(^|\n)-rw-r--r-- 0/0 +0 [^\n]* opq/\\.wh\\.\\.wh\\.\\.opq\n' "opaque marker"
	assert_match "$listing" $'(^|\n)-rw-r--r-- 0/0 [^\n]* opq/c\n' "opq/c"
	assert_match "$listing" $'(^|\n)-rw-r----- 1000/1000 [^\n]* etc/skiff-fixture/owned\\.txt(\n|$)' "owned.txt"
	assert_not_contains "$listing" "opq/a" "layer 2"
}

@test "registry: single-layer image has the fixture's digests" {
	assert_same_blobs skiff/busybox latest busybox
}

@test "registry: multi-layer image has the fixture's digests" {
	assert_same_blobs skiff/multilayer v1 multilayer
	assert_equal "$(registry_manifest skiff/multilayer v1 | jq '.layers | length')" 2 "layers"
}

@test "registry: manifest digest is the fixture's manifest digest" {
	local expected
	expected=$(jq -r '.manifests[] | select(.annotations["org.opencontainers.image.ref.name"] == "multilayer") | .digest' \
		"$LAYOUT/index.json")
	assert_equal "$(registry_manifest_digest skiff/multilayer v1)" "$expected" "Docker-Content-Digest"
	# The manifest can be fetched by that digest too.
	assert_equal "$(registry_manifest skiff/multilayer "$expected" | sha256sum | cut -d' ' -f1)" \
		"${expected#sha256:}" "manifest by digest"
}

@test "registry: every blob fetched back hashes to its digest" {
	local digest manifest
	manifest=$(registry_manifest skiff/multilayer v1)
	for digest in $(jq -r '.config.digest, .layers[].digest' <<<"$manifest"); do
		registry_blob skiff/multilayer "$digest" "$BATS_TEST_TMPDIR/blob" ||
			die "cannot fetch blob $digest"
		assert_equal "sha256:$(sha256_of "$BATS_TEST_TMPDIR/blob")" "$digest" "fetched blob"
	done
}

@test "registry: tags list names the pushed tag" {
	assert_equal "$(registry_curl v2/skiff/multilayer/tags/list | jq -c .tags)" '["v1"]' "tags"
}

@test "registry: unknown manifest is a 404 with MANIFEST_UNKNOWN" {
	local body code
	body=$(registry_curl v2/skiff/busybox/manifests/nosuchtag -H "Accept: $MANIFEST_ACCEPT")
	code=$(registry_curl v2/skiff/busybox/manifests/nosuchtag -o /dev/null -w '%{http_code}')
	assert_equal "$code" 404 "HTTP status"
	assert_equal "$(jq -r '.errors[0].code' <<<"$body")" MANIFEST_UNKNOWN "error code"
}

@test "registry with htpasswd: anonymous is refused, credentials work" {
	local code challenge
	make_htpasswd "$BATS_TEST_TMPDIR/htpasswd" skiffuser 's3cret pass'
	start_registry --htpasswd "$BATS_TEST_TMPDIR/htpasswd"

	code=$(registry_curl v2/ -o /dev/null -w '%{http_code}')
	assert_equal "$code" 401 "anonymous /v2/"
	challenge=$(registry_curl v2/ -D - -o /dev/null | tr -d '\r' |
		awk -F': ' 'tolower($1) == "www-authenticate" { print $2 }')
	assert_equal "$challenge" 'Basic realm="skiff-test"' "challenge"

	REGISTRY_CREDS='skiffuser:wrong' run push_image "$LAYOUT" busybox "$REGISTRY_ADDR/private/busybox:latest"
	[[ $status -ne 0 ]] || die "push with a wrong password succeeded"

	REGISTRY_CREDS='skiffuser:s3cret pass' push_image "$LAYOUT" busybox "$REGISTRY_ADDR/private/busybox:latest"
	code=$(registry_curl v2/private/busybox/manifests/latest -o /dev/null -w '%{http_code}' \
		-H "Accept: $MANIFEST_ACCEPT")
	assert_equal "$code" 401 "anonymous manifest"
	REGISTRY_CREDS='skiffuser:s3cret pass' assert_same_blobs private/busybox latest busybox
	stop_registry
}
