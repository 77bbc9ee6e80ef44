#!/usr/bin/env bats
# skiff push: images pulled from a local registry (where skopeo pushed the
# fixtures) go back to another repository of the same registry, to a second
# registry and to the local transports.  The registries log every request
# (start_logging_registry), so the tests see what a push sent: mounts
# instead of uploads, HEAD checks instead of a second upload, chunks.
# skopeo, an independent client, reads and copies what skiff pushed.

load helpers

setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	build_busybox_image "$LAYOUT" busybox
	build_multilayer_image "$LAYOUT" multilayer
	docker_schema2 busybox

	start_logging_registry
	export MAIN_ADDR=$REGISTRY_ADDR MAIN_LOG=$ACCESS_LOG
	push_image "$LAYOUT" busybox "$MAIN_ADDR/skiff/busybox:latest"
	push_image "$LAYOUT" multilayer "$MAIN_ADDR/skiff/multilayer:v1"
	registry_push_verbatim "$LAYOUT" busybox-docker skiff/docker v1

	start_logging_registry
	export SECOND_ADDR=$REGISTRY_ADDR SECOND_LOG=$ACCESS_LOG
}

# A registry whose log has a line per request (the access log, combined
# format): start_registry's, restarted with the access log on.  The log is
# opened for appending, so that truncating it between tests is safe.
start_logging_registry() {
	local pid
	start_registry || return
	stop_registry "$REGISTRY_DIR"
	sed -i 's/^    disabled: true$/    disabled: false/' "$REGISTRY_DIR/config.yml"
	: >"$REGISTRY_DIR/log"
	docker-registry serve "$REGISTRY_DIR/config.yml" </dev/null >>"$REGISTRY_DIR/log" 2>&1 3>&- &
	pid=$!
	echo "$pid" >"$REGISTRY_DIR/pid"
	wait_for_registry "$REGISTRY_PORT" "$pid" ||
		die "docker-registry did not restart: $(cat "$REGISTRY_DIR/log")"
	export ACCESS_LOG=$REGISTRY_DIR/log
}

# "METHOD PATH STATUS" for each request in log FILE since it was emptied.
requests() {
	sed -n 's/^.*"\([A-Z]*\) \([^ ]*\) HTTP\/[0-9.]*" \([0-9]*\) .*$/\1 \2 \3/p' "$1"
}

# The busybox image's OCI manifest as Docker schema 2, stored as
# busybox-docker in the layout.
docker_schema2() {
	local tag=$1 file=$BATS_FILE_TMPDIR/$1-docker.json
	oci_manifest "$LAYOUT" "$tag" | jq -c '
		.mediaType = "application/vnd.docker.distribution.manifest.v2+json"
		| .config.mediaType = "application/vnd.docker.container.image.v1+json"
		| .layers[].mediaType = "application/vnd.docker.image.rootfs.diff.tar.gzip"' >"$file"
	oci_set_manifest "$LAYOUT" "$tag-docker" "$file" application/vnd.docker.distribution.manifest.v2+json
}

skiff_out() {
	"$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" "$@"
}

pull() {
	run_skiff pull -q --tls-verify=false "$1"
}

push() {
	local rc=0
	if is_expected_rc "${1-}"; then
		rc=$1
		shift
	fi
	run_skiff "$rc" push --tls-verify=false "$@"
}

# manifest ADDR REPO REF: the manifest body as the registry serves it.
manifest() {
	REGISTRY_ADDR=$1 registry_manifest "$2" "$3"
}

manifest_digest() {
	REGISTRY_ADDR=$1 registry_manifest_digest "$2" "$3"
}

image_id() {
	skiff_out inspect --format '{{.Id}}' "$1"
}

# skopeo with its configuration kept private (helpers.bash skopeo_env_dir).
skopeo_run() {
	local dir
	dir=$(skopeo_env_dir)
	XDG_DATA_HOME=$dir/data REGISTRY_AUTH_FILE=$dir/auth.json \
		skopeo --insecure-policy --policy "$dir/policy.json" \
		--registries-conf "$dir/registries.conf" "$@"
}

# ---------------------------------------------------------------------------
# to registries

@test "push to another repository of the registry: the manifest and every blob keep their digests" {
	pull "$MAIN_ADDR/skiff/multilayer:v1"
	push "$MAIN_ADDR/skiff/multilayer:v1" "$MAIN_ADDR/copy/multilayer:v1"
	assert_equal "$(manifest_digest "$MAIN_ADDR" copy/multilayer v1)" \
		"$(manifest_digest "$MAIN_ADDR" skiff/multilayer v1)" "manifest digest"
	assert_equal "$(manifest "$MAIN_ADDR" copy/multilayer v1)" \
		"$(manifest "$MAIN_ADDR" skiff/multilayer v1)" "manifest bytes"
}

@test "push to another repository of the registry: blobs are mounted, not uploaded" {
	local layers
	pull "$MAIN_ADDR/skiff/busybox:latest"
	: >"$MAIN_LOG"
	push "$MAIN_ADDR/skiff/busybox:latest" "$MAIN_ADDR/mounted/busybox:latest"
	layers=$(manifest "$MAIN_ADDR" skiff/busybox latest | jq -r '.layers[].digest')
	assert_contains "$(requests "$MAIN_LOG")" \
		"POST /v2/mounted/busybox/blobs/uploads/?mount=$layers&from=skiff/busybox 201" "requests"
	assert_not_contains "$(requests "$MAIN_LOG")" "PUT /v2/mounted/busybox/blobs/uploads/" \
		"requests"
	assert_contains "$output" "Copying blob ${layers:7:12} skipped: already exists" "progress"
}

@test "push to a second registry: skopeo reads the same manifest digest and blobs" {
	local digest
	pull "$MAIN_ADDR/skiff/multilayer:v1"
	push "$MAIN_ADDR/skiff/multilayer:v1" "$SECOND_ADDR/skiff/multilayer:v1"
	assert_contains "$output" "Writing manifest to image destination" "progress"
	digest=$(manifest_digest "$MAIN_ADDR" skiff/multilayer v1)
	assert_equal "$(manifest_digest "$SECOND_ADDR" skiff/multilayer v1)" "$digest" "manifest digest"
	run skopeo_run inspect --tls-verify=false --raw "docker://$SECOND_ADDR/skiff/multilayer:v1"
	assert_equal "$status" 0 "skopeo inspect"
	assert_equal "$output" "$(manifest "$MAIN_ADDR" skiff/multilayer v1)" "manifest skopeo reads"
	# skopeo copies it out whole, checking every blob.
	run skopeo_run copy --quiet --src-tls-verify=false \
		"docker://$SECOND_ADDR/skiff/multilayer:v1" "oci:$SKIFF_TEST_DIR/copied:v1"
	assert_equal "$status" 0 "skopeo copy: $output"
}

@test "skiff pulls what it pushed with the same image ID" {
	local id
	pull "$MAIN_ADDR/skiff/multilayer:v1"
	id=$(image_id "$MAIN_ADDR/skiff/multilayer:v1")
	push "$MAIN_ADDR/skiff/multilayer:v1" "$SECOND_ADDR/back/multilayer:v1"
	run_skiff rmi -a
	pull "$SECOND_ADDR/back/multilayer:v1"
	assert_equal "$output" "${id#sha256:}" "pulled image ID"
}

@test "push: a second push of the same image uploads no blob" {
	pull "$MAIN_ADDR/skiff/multilayer:v1"
	push "$MAIN_ADDR/skiff/multilayer:v1" "$SECOND_ADDR/twice/multilayer:v1"
	: >"$SECOND_LOG"
	push "$MAIN_ADDR/skiff/multilayer:v1" "$SECOND_ADDR/twice/multilayer:v2"
	assert_not_contains "$(requests "$SECOND_LOG")" "/blobs/uploads/" "requests"
	assert_contains "$(requests "$SECOND_LOG")" "PUT /v2/twice/multilayer/manifests/v2 201" "requests"
	assert_equal "$(grep -c 'skipped: already exists' <<<"$output")" 2 "layers skipped"
}

@test "push: a blob the repository has (HEAD) is skipped, a missing one uploaded" {
	local layers
	pull "$MAIN_ADDR/skiff/multilayer:v1"
	mapfile -t layers < <(manifest "$MAIN_ADDR" skiff/multilayer v1 | jq -r '.layers[].digest')
	# Only the first layer is there before the push.
	REGISTRY_ADDR=$MAIN_ADDR registry_blob skiff/multilayer "${layers[0]}" "$SKIFF_TEST_DIR/l0"
	curl -sf -X POST -o /dev/null -D "$SKIFF_TEST_DIR/h" "http://$SECOND_ADDR/v2/partial/multilayer/blobs/uploads/"
	curl -sf -X PUT -o /dev/null -H 'Content-Type: application/octet-stream' \
		--data-binary "@$SKIFF_TEST_DIR/l0" \
		"$(tr -d '\r' <"$SKIFF_TEST_DIR/h" | sed -n 's/^Location: //p')&digest=${layers[0]}"
	: >"$SECOND_LOG"
	push "$MAIN_ADDR/skiff/multilayer:v1" "$SECOND_ADDR/partial/multilayer:v1"
	assert_contains "$output" "Copying blob ${layers[0]:7:12} skipped: already exists" "progress"
	assert_contains "$output" "Copying blob ${layers[1]:7:12} done" "progress"
	assert_contains "$(requests "$SECOND_LOG")" "HEAD /v2/partial/multilayer/blobs/${layers[0]} 200" "requests"
	assert_equal "$(requests "$SECOND_LOG" | grep -c '^PUT /v2/partial/multilayer/blobs/uploads/')" 2 \
		"uploads (the second layer and the config)"
}

@test "push with SKIFF_PUSH_CHUNK_SIZE: chunked upload (PATCH per chunk), same digests" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	: >"$SECOND_LOG"
	SKIFF_PUSH_CHUNK_SIZE=200000 push "$MAIN_ADDR/skiff/busybox:latest" "$SECOND_ADDR/chunked/busybox:latest"
	[[ $(requests "$SECOND_LOG" | grep -c '^PATCH /v2/chunked/busybox/blobs/uploads/.* 202$') -ge 5 ]] ||
		die "expected at least 5 chunks: $(requests "$SECOND_LOG")"
	assert_equal "$(manifest_digest "$SECOND_ADDR" chunked/busybox latest)" \
		"$(manifest_digest "$MAIN_ADDR" skiff/busybox latest)" "manifest digest"
}

@test "push of a Docker schema 2 image keeps its manifest bytes" {
	pull "$MAIN_ADDR/skiff/docker:v1"
	push "$MAIN_ADDR/skiff/docker:v1" "$SECOND_ADDR/docker/busybox:v1"
	assert_equal "$(manifest_digest "$SECOND_ADDR" docker/busybox v1)" \
		"$(manifest_digest "$MAIN_ADDR" skiff/docker v1)" "manifest digest"
	assert_equal "$(manifest "$SECOND_ADDR" docker/busybox v1 | jq -r .mediaType)" \
		application/vnd.docker.distribution.manifest.v2+json "media type"
}

@test "push --format oci: a Docker image gets OCI media types and the same blobs" {
	local id
	pull "$MAIN_ADDR/skiff/docker:v1"
	id=$(image_id "$MAIN_ADDR/skiff/docker:v1")
	push --format oci "$MAIN_ADDR/skiff/docker:v1" "$SECOND_ADDR/tooci/busybox:v1"
	run manifest "$SECOND_ADDR" tooci/busybox v1
	assert_equal "$(jq -r .mediaType <<<"$output")" application/vnd.oci.image.manifest.v1+json "mediaType"
	assert_equal "$(jq -r .config.mediaType <<<"$output")" application/vnd.oci.image.config.v1+json "config"
	assert_equal "$(jq -r '.layers[].mediaType' <<<"$output")" application/vnd.oci.image.layer.v1.tar+gzip "layer"
	assert_equal "$(jq -r '.layers[].digest' <<<"$output")" \
		"$(manifest "$MAIN_ADDR" skiff/docker v1 | jq -r '.layers[].digest')" "layer digest"
	run_skiff rmi -a
	pull "$SECOND_ADDR/tooci/busybox:v1"
	assert_equal "$output" "${id#sha256:}" "image ID"
}

@test "push --format v2s2: an OCI image gets Docker media types" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	push --format v2s2 "$MAIN_ADDR/skiff/busybox:latest" "$SECOND_ADDR/todocker/busybox:v1"
	assert_equal "$(manifest "$SECOND_ADDR" todocker/busybox v1 | jq -r .mediaType)" \
		application/vnd.docker.distribution.manifest.v2+json "mediaType"
}

@test "push --format: an unknown format is an error" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	push 125 --format v3 "$MAIN_ADDR/skiff/busybox:latest" "$SECOND_ADDR/bad/busybox:v1"
	assert_contains "$output" "invalid manifest format \"v3\"" "error"
}

@test "push --compression-format zstd: zstd layers with new digests, the same image" {
	local id
	pull "$MAIN_ADDR/skiff/multilayer:v1"
	id=$(image_id "$MAIN_ADDR/skiff/multilayer:v1")
	push --compression-format zstd "$MAIN_ADDR/skiff/multilayer:v1" "$SECOND_ADDR/zstd/multilayer:v1"
	run manifest "$SECOND_ADDR" zstd/multilayer v1
	assert_equal "$(jq -r '.layers[].mediaType' <<<"$output" | sort -u)" \
		application/vnd.oci.image.layer.v1.tar+zstd "layer media types"
	assert_not_contains "$output" "$(manifest "$MAIN_ADDR" skiff/multilayer v1 | jq -r '.layers[0].digest')" \
		"old layer digest"
	run_skiff rmi -a
	pull "$SECOND_ADDR/zstd/multilayer:v1"
	assert_equal "$output" "${id#sha256:}" "image ID"
}

@test "push --compression-format zstd --format v2s2: refused, Docker schema 2 has no zstd" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	push 125 --compression-format zstd --format v2s2 "$MAIN_ADDR/skiff/busybox:latest" \
		"$SECOND_ADDR/nozstd/busybox:v1"
	assert_contains "$output" "--format oci" "error"
}

@test "push --digestfile: the file holds the manifest digest" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	push --digestfile "$SKIFF_TEST_DIR/digest" "$MAIN_ADDR/skiff/busybox:latest" \
		"$SECOND_ADDR/digest/busybox:v1"
	assert_equal "$(cat "$SKIFF_TEST_DIR/digest")" \
		"$(manifest_digest "$SECOND_ADDR" digest/busybox v1)" "digest file"
}

@test "push -q: nothing on stdout or stderr" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	push -q "$MAIN_ADDR/skiff/busybox:latest" "$SECOND_ADDR/quiet/busybox:v1"
	assert_equal "$output" "" "output"
}

@test "push without a destination: to the image's own name" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	run_skiff tag "$MAIN_ADDR/skiff/busybox:latest" "$SECOND_ADDR/own/busybox:v7"
	push "$SECOND_ADDR/own/busybox:v7"
	assert_equal "$(manifest_digest "$SECOND_ADDR" own/busybox v7)" \
		"$(manifest_digest "$MAIN_ADDR" skiff/busybox latest)" "manifest digest"
}

@test "push docker://: the same as a plain reference" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	push "$MAIN_ADDR/skiff/busybox:latest" "docker://$SECOND_ADDR/prefixed/busybox:v1"
	[[ -n $(manifest_digest "$SECOND_ADDR" prefixed/busybox v1) ]] || die "nothing pushed"
}

@test "push of an unknown image: an error, exit 125" {
	push 125 nosuch/image:v1 "$SECOND_ADDR/nosuch/image:v1"
	assert_contains "$output" "No such image: nosuch/image:v1" "error"
}

@test "push to a plain HTTP registry without --tls-verify=false says what to do" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	run_skiff 125 push "$MAIN_ADDR/skiff/busybox:latest" "$SECOND_ADDR/tls/busybox:v1"
	assert_contains "$output" "--tls-verify=false" "error"
}

@test "push of an imported image: skopeo inspects it and skiff pulls it back" {
	local id
	fixture_busybox_rootfs "$SKIFF_TEST_DIR/rootfs"
	layer_tar "$SKIFF_TEST_DIR/rootfs.tar" "$SKIFF_TEST_DIR/rootfs"
	run_skiff import -q "$SKIFF_TEST_DIR/rootfs.tar" localhost/imported:v1
	id=$(image_id localhost/imported:v1)
	push localhost/imported:v1 "$SECOND_ADDR/imported/busybox:v1"
	run skopeo_run inspect --tls-verify=false "docker://$SECOND_ADDR/imported/busybox:v1"
	assert_equal "$status" 0 "skopeo inspect: $output"
	run_skiff rmi -a
	pull "$SECOND_ADDR/imported/busybox:v1"
	assert_equal "$output" "${id#sha256:}" "image ID"
}

# ---------------------------------------------------------------------------
# to local transports, and pulls from them

# round_trip DEST: push the multilayer image to DEST, pull DEST into an
# empty store, and compare the image IDs.
round_trip() {
	local dest=$1 id
	pull "$MAIN_ADDR/skiff/multilayer:v1"
	id=$(image_id "$MAIN_ADDR/skiff/multilayer:v1")
	run_skiff push -q "$MAIN_ADDR/skiff/multilayer:v1" "$dest"
	run_skiff rmi -a
	run_skiff pull -q "$dest"
	assert_equal "$output" "${id#sha256:}" "image ID pulled from $dest"
}

@test "push oci:DIR:TAG and pull it back: the same image ID, the manifest digest kept" {
	round_trip "oci:$SKIFF_TEST_DIR/layout:v1"
	assert_equal "$(jq -r '.manifests[0].digest' "$SKIFF_TEST_DIR/layout/index.json")" \
		"$(manifest_digest "$MAIN_ADDR" skiff/multilayer v1)" "manifest in the layout"
}

@test "push oci-archive:FILE and pull it back: the same image ID" {
	round_trip "oci-archive:$SKIFF_TEST_DIR/image.tar"
}

@test "push docker-archive:FILE:NAME and pull it back: the same image ID, named NAME" {
	round_trip "docker-archive:$SKIFF_TEST_DIR/docker.tar:example.com/named/multi:v2"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	assert_equal "$output" "example.com/named/multi:v2" "images"
}

@test "push dir:DIR and pull it back: the same image ID" {
	round_trip "dir:$SKIFF_TEST_DIR/dir"
	[[ -f $SKIFF_TEST_DIR/dir/manifest.json && -f $SKIFF_TEST_DIR/dir/version ]] ||
		die "no dir: layout"
}

@test "skiff pulls an OCI layout skopeo wrote" {
	local id
	id=$(oci_manifest "$LAYOUT" busybox | jq -r .config.digest)
	run_skiff pull -q "oci:$LAYOUT:busybox"
	assert_equal "$output" "${id#sha256:}" "image ID"
}

@test "push to a transport skiff lacks: an error naming it" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	push 125 "$MAIN_ADDR/skiff/busybox:latest" containers-storage:x
	assert_contains "$output" "\"containers-storage\" is not supported" "error"
}

# ---------------------------------------------------------------------------
# registries.conf

write_registries_conf() {
	mkdir -p "$XDG_CONFIG_HOME/containers"
	cat >"$XDG_CONFIG_HOME/containers/registries.conf"
}

@test "push to a registry registries.conf blocks: refused, nothing sent" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	write_registries_conf <<EOF
[[registry]]
location = "$SECOND_ADDR"
blocked = true
EOF
	: >"$SECOND_LOG"
	push 125 "$MAIN_ADDR/skiff/busybox:latest" "$SECOND_ADDR/blocked/busybox:v1"
	assert_contains "$output" "image \"$SECOND_ADDR/blocked/busybox:v1\" is blocked by registries.conf" "error"
	assert_equal "$(requests "$SECOND_LOG")" "" "requests"
}

@test "push to a registry registries.conf marks insecure: plain HTTP without --tls-verify" {
	pull "$MAIN_ADDR/skiff/busybox:latest"
	write_registries_conf <<EOF
[[registry]]
location = "$SECOND_ADDR"
insecure = true
EOF
	run_skiff push "$MAIN_ADDR/skiff/busybox:latest" "$SECOND_ADDR/insecure/busybox:v1"
	[[ -n $(manifest_digest "$SECOND_ADDR" insecure/busybox v1) ]] || die "nothing pushed"
}
