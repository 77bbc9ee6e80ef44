#!/usr/bin/env bats
# skiff manifest: a list of registry images for two platforms is built
# locally (create, add, remove, inspect), pushed with everything its
# entries need (to another repository of the registry, where blobs are
# mounted, and to a second registry, where they are copied), served by the
# registry as an index, and resolved by pull --platform.

load helpers

setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout OTHER_ARCH
	OTHER_ARCH=$(if [[ $(oci_arch) == arm64 ]]; then echo s390x; else echo arm64; fi)
	build_busybox_image "$LAYOUT" host
	build_multilayer_image "$LAYOUT" other
	oci_retarget_arch "$LAYOUT" other "$OTHER_ARCH"
	export HOST_ID OTHER_ID
	HOST_ID=$(oci_manifest "$LAYOUT" host | jq -r .config.digest)
	OTHER_ID=$(oci_manifest "$LAYOUT" other | jq -r .config.digest)

	start_registry
	export MAIN_ADDR=$REGISTRY_ADDR
	push_image "$LAYOUT" host "$MAIN_ADDR/skiff/img:host"
	push_image "$LAYOUT" other "$MAIN_ADDR/skiff/img:other"
	start_registry
	export SECOND_ADDR=$REGISTRY_ADDR
}

manifest() {
	local rc=0
	if is_expected_rc "${1-}"; then
		rc=$1
		shift
	fi
	run_skiff "$rc" manifest "$@"
}

# The list with both images.
make_list() {
	manifest create mylist
	manifest add --tls-verify=false mylist "$MAIN_ADDR/skiff/img:host"
	manifest add --tls-verify=false mylist "docker://$MAIN_ADDR/skiff/img:other"
}

@test "manifest create, add, inspect: an OCI index with one entry per platform" {
	make_list
	manifest inspect mylist
	assert_equal "$(jq -r .mediaType <<<"$output")" application/vnd.oci.image.index.v1+json "mediaType"
	assert_equal "$(jq -r '[.manifests[].platform.architecture] | join(" ")' <<<"$output")" \
		"$(oci_arch) $OTHER_ARCH" "architectures"
	assert_equal "$(jq -r '.manifests[0].digest' <<<"$output")" \
		"$(REGISTRY_ADDR=$MAIN_ADDR registry_manifest_digest skiff/img host)" "first entry"
}

@test "manifest create of an existing list: an error" {
	manifest create mylist
	manifest 125 create mylist
	assert_contains "$output" "a manifest list named \"localhost/mylist:latest\" exists" "error"
}

@test "manifest add to an unknown list: an error" {
	manifest 125 add --tls-verify=false nolist "$MAIN_ADDR/skiff/img:host"
	assert_contains "$output" "localhost/nolist:latest: no such manifest list" "error"
}

@test "manifest add --arch: the platform given wins over the config's" {
	manifest create mylist
	manifest add --tls-verify=false --arch ppc64le mylist "$MAIN_ADDR/skiff/img:host"
	manifest inspect mylist
	assert_equal "$(jq -r '.manifests[0].platform.architecture' <<<"$output")" ppc64le "architecture"
}

@test "manifest remove: the entry goes" {
	local digest
	make_list
	digest=$(REGISTRY_ADDR=$MAIN_ADDR registry_manifest_digest skiff/img host)
	manifest remove mylist "$digest"
	manifest inspect mylist
	assert_equal "$(jq -r '.manifests | length' <<<"$output")" 1 "entries"
	assert_not_contains "$output" "$digest" "index"
}

@test "manifest push: the registry serves the index, pull --platform resolves each entry" {
	make_list
	manifest push --tls-verify=false mylist "$MAIN_ADDR/lists/img:latest"
	assert_contains "$output" "Writing manifest list to image destination" "progress"
	assert_equal "$(REGISTRY_ADDR=$MAIN_ADDR registry_manifest lists/img latest |
		jq -r '.manifests | length')" 2 "entries served"
	run_skiff pull -q --tls-verify=false --platform "linux/$OTHER_ARCH" "$MAIN_ADDR/lists/img:latest"
	assert_equal "$output" "${OTHER_ID#sha256:}" "image for $OTHER_ARCH"
	run_skiff pull -q --tls-verify=false "$MAIN_ADDR/lists/img:latest"
	assert_equal "$output" "${HOST_ID#sha256:}" "image for the host"
}

@test "manifest push to the same registry: blobs are mounted" {
	make_list
	manifest push --tls-verify=false mylist "$MAIN_ADDR/mounted/img:latest"
	assert_not_contains "$output" " done" "progress"
	assert_contains "$output" "skipped: already exists" "progress"
}

@test "manifest push to a second registry: every blob and entry copied; skopeo reads it" {
	local dir
	make_list
	manifest push --tls-verify=false --digestfile "$SKIFF_TEST_DIR/digest" mylist \
		"$SECOND_ADDR/copied/img:v1"
	assert_equal "$(cat "$SKIFF_TEST_DIR/digest")" \
		"$(REGISTRY_ADDR=$SECOND_ADDR registry_manifest_digest copied/img v1)" "digest file"
	dir=$(skopeo_env_dir)
	run skopeo --registries-conf "$dir/registries.conf" --override-arch "$OTHER_ARCH" \
		inspect --tls-verify=false "docker://$SECOND_ADDR/copied/img:v1"
	assert_equal "$status" 0 "skopeo inspect: $output"
	assert_equal "$(jq -r .Architecture <<<"$output")" "$OTHER_ARCH" "architecture"
	run_skiff pull -q --tls-verify=false --platform "linux/$OTHER_ARCH" "$SECOND_ADDR/copied/img:v1"
	assert_equal "$output" "${OTHER_ID#sha256:}" "image for $OTHER_ARCH"
}

@test "manifest push --format v2s2 of OCI entries: refused" {
	make_list
	manifest 125 push --tls-verify=false --format v2s2 mylist "$MAIN_ADDR/docker/img:latest"
	assert_contains "$output" "--format oci" "error"
}

@test "manifest push --rm: the list is gone afterwards" {
	make_list
	manifest push -q --rm --tls-verify=false mylist "$MAIN_ADDR/removed/img:latest"
	manifest 125 inspect mylist
}

@test "manifest add --all of an index: both entries" {
	make_list
	manifest push -q --tls-verify=false mylist "$MAIN_ADDR/all/img:latest"
	manifest create copy
	manifest add --all --tls-verify=false copy "$MAIN_ADDR/all/img:latest"
	manifest inspect copy
	assert_equal "$(jq -r '.manifests | length' <<<"$output")" 2 "entries"
}

@test "manifest inspect of a registry image without a local list" {
	manifest inspect --tls-verify=false "$MAIN_ADDR/skiff/img:host"
	assert_equal "$(jq -r .mediaType <<<"$output")" application/vnd.oci.image.manifest.v1+json "mediaType"
}

@test "manifest rm: the list goes; an unknown one is an error" {
	manifest create mylist
	manifest rm mylist
	manifest 125 rm mylist
	assert_contains "$output" "no such manifest list" "error"
}
