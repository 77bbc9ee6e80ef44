#!/usr/bin/env bats
# The local image commands: images (table, -q, --digests, --no-trunc,
# --format, --filter), tag, untag, rmi, image exists, image prune, inspect
# and history, on images pulled from a local registry.

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
}

# pull REF...: each over plain HTTP, quietly.
pull() {
	local ref
	for ref in "$@"; do
		run_skiff pull -q --tls-verify=false "$ref"
	done
}

# skiff's stdout, for a command substitution (run_skiff logs the command
# line to stdout).
skiff_out() {
	"$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" "$@"
}

short_id() {
	local hex=${1#sha256:}
	echo "${hex:0:12}"
}

# The table's rows, columns separated by one space.
squeeze() {
	sed -E 's/  +/ /g; s/ +$//'
}

@test "images: table columns and one row per image" {
	pull "$BUSYBOX_REF" "$MULTI_REF"
	run_skiff images
	assert_equal "$(squeeze <<<"${lines[0]}")" "REPOSITORY TAG IMAGE ID CREATED SIZE" "header"
	assert_equal "${#lines[@]}" 3 "header and two rows"
	assert_match "$(squeeze <<<"$output")" \
		"(^|"$'\n'")$REGISTRY_ADDR/skiff/multilayer v1 $(short_id "$MULTI_ID") [^"$'\n'"]*ago [0-9.]+[kMG]?B("$'\n'"|$)" \
		"multilayer row"
	assert_match "$(squeeze <<<"$output")" \
		"(^|"$'\n'")$REGISTRY_ADDR/skiff/busybox latest $(short_id "$BUSYBOX_ID") " "busybox row"
}

@test "images: an empty store prints the header only" {
	run_skiff images
	assert_equal "$(squeeze <<<"$output")" "REPOSITORY TAG IMAGE ID CREATED SIZE" "output"
}

@test "images -q: the short IDs, each image once" {
	pull "$BUSYBOX_REF" "$MULTI_REF"
	run_skiff tag "$MULTI_REF" "$REGISTRY_ADDR/skiff/other:1"
	assert_equal "$(skiff_out images -q | LC_ALL=C sort)" \
		"$(printf '%s\n' "$(short_id "$BUSYBOX_ID")" "$(short_id "$MULTI_ID")" | LC_ALL=C sort)" "images -q"
}

@test "images --no-trunc: the full ID" {
	pull "$MULTI_REF"
	run_skiff images --no-trunc
	assert_equal "$(squeeze <<<"${lines[1]}" | cut -d' ' -f3)" "$MULTI_ID" "IMAGE ID"
	assert_equal "$(skiff_out images -q --no-trunc)" "$MULTI_ID" "images -q --no-trunc"
}

@test "images --digests: a DIGEST column with the manifest digest" {
	local digest
	digest=$(registry_manifest_digest skiff/multilayer v1)
	pull "$MULTI_REF"
	run_skiff images --digests
	assert_equal "$(squeeze <<<"${lines[0]}")" "REPOSITORY TAG DIGEST IMAGE ID CREATED SIZE" "header"
	assert_equal "$(squeeze <<<"${lines[1]}" | cut -d' ' -f1-4)" \
		"$REGISTRY_ADDR/skiff/multilayer v1 $digest $(short_id "$MULTI_ID")" "row"
}

@test "images --noheading: rows only" {
	pull "$MULTI_REF"
	assert_equal "$(skiff_out images --noheading | squeeze | cut -d' ' -f1-3)" \
		"$REGISTRY_ADDR/skiff/multilayer v1 $(short_id "$MULTI_ID")" "output"
}

@test "images --format json: the podman fields" {
	local json digest
	digest=$(registry_manifest_digest skiff/multilayer v1)
	pull "$MULTI_REF"
	json=$(skiff_out images --format json)
	assert_equal "$(jq length <<<"$json")" 1 "entries"
	assert_equal "$(jq -r '.[0].Id' <<<"$json")" "${MULTI_ID#sha256:}" "Id"
	assert_equal "$(jq -c '.[0].RepoTags' <<<"$json")" "[\"$MULTI_REF\"]" "RepoTags"
	assert_equal "$(jq -c '.[0].RepoDigests' <<<"$json")" \
		"[\"$REGISTRY_ADDR/skiff/multilayer@$digest\"]" "RepoDigests"
	assert_equal "$(jq -r '.[0].Digest' <<<"$json")" "$digest" "Digest"
	assert_equal "$(jq -r '.[0].Dangling' <<<"$json")" false "Dangling"
	assert_equal "$(jq -r '.[0].Created' <<<"$json")" 1700000000 "Created"
	assert_match "$(jq -r '.[0].Size' <<<"$json")" '^[1-9][0-9]*$' "Size"
}

@test "images --format: a template per row, with .Repository, .Tag and .ID" {
	pull "$MULTI_REF"
	run_skiff tag "$MULTI_REF" "$REGISTRY_ADDR/skiff/other:1"
	assert_equal "$(skiff_out images --format '{{.Repository}}|{{.Tag}}|{{.ID}}' | LC_ALL=C sort)" \
		"$(printf '%s\n' "$REGISTRY_ADDR/skiff/multilayer|v1|$(short_id "$MULTI_ID")" \
			"$REGISTRY_ADDR/skiff/other|1|$(short_id "$MULTI_ID")" | LC_ALL=C sort)" "rows"
}

@test "images IMAGE: only that repository" {
	pull "$BUSYBOX_REF" "$MULTI_REF"
	assert_equal "$(skiff_out images -q "$REGISTRY_ADDR/skiff/busybox")" \
		"$(short_id "$BUSYBOX_ID")" "images REPO"
}

@test "images --filter reference=: matches names and patterns" {
	pull "$BUSYBOX_REF" "$MULTI_REF"
	assert_equal "$(skiff_out images -q --filter "reference=$REGISTRY_ADDR/skiff/multilayer")" \
		"$(short_id "$MULTI_ID")" "by repository"
	assert_equal "$(skiff_out images -q --filter "reference=$REGISTRY_ADDR/skiff/busybox:latest")" \
		"$(short_id "$BUSYBOX_ID")" "by name"
	assert_equal "$(skiff_out images -q --filter "reference=*/skiff/multi*")" \
		"$(short_id "$MULTI_ID")" "by pattern"
	assert_equal "$(skiff_out images -q --filter "reference=$REGISTRY_ADDR/skiff/none")" "" "no match"
}

@test "images --filter: an unknown filter is an error" {
	run_skiff 125 images --filter color=red
	assert_contains "$output" 'invalid image filter "color=red"' "error"
}

@test "tag: the image gets a second name" {
	pull "$MULTI_REF"
	run_skiff tag "$MULTI_REF" "$REGISTRY_ADDR/skiff/renamed:2"
	run_skiff inspect --format '{{json .RepoTags}}' "$REGISTRY_ADDR/skiff/renamed:2"
	assert_equal "$(jq -c 'sort' <<<"$output")" \
		"$(jq -nc --arg a "$MULTI_REF" --arg b "$REGISTRY_ADDR/skiff/renamed:2" '[$a, $b] | sort')" \
		"RepoTags"
	assert_equal "$(skiff_out images --noheading | wc -l)" 2 "rows"
	assert_equal "$(skiff_out images -q)" "$(short_id "$MULTI_ID")" "one image"
}

@test "tag: a short name is normalized" {
	pull "$MULTI_REF"
	run_skiff tag "$MULTI_REF" mine:1
	run_skiff image exists docker.io/library/mine:1
	run_skiff inspect --format '{{.Id}}' mine:1
	assert_equal "$output" "$MULTI_ID" "inspect mine:1"
}

@test "tag: a target with a digest is refused" {
	pull "$MULTI_REF"
	run_skiff 125 tag "$MULTI_REF" "$REGISTRY_ADDR/skiff/x@sha256:$(printf 'a%.0s' {1..64})"
	assert_contains "$output" "a tag cannot contain a digest" "error"
}

@test "untag NAME: the image stays without it" {
	pull "$MULTI_REF"
	run_skiff tag "$MULTI_REF" "$REGISTRY_ADDR/skiff/renamed:2"
	run_skiff untag "$MULTI_REF" "$REGISTRY_ADDR/skiff/renamed:2"
	assert_equal "$(skiff_out inspect --format '{{json .RepoTags}}' "$MULTI_ID")" "[\"$MULTI_REF\"]" "RepoTags"
	run_skiff 1 image exists "$REGISTRY_ADDR/skiff/renamed:2"
}

@test "untag: without a name the image becomes dangling" {
	pull "$MULTI_REF"
	run_skiff untag "$MULTI_REF"
	assert_equal "$(skiff_out images --noheading | squeeze | cut -d' ' -f1-3)" \
		"<none> <none> $(short_id "$MULTI_ID")" "images"
	assert_equal "$(skiff_out images -q --filter dangling=true)" "$(short_id "$MULTI_ID")" "dangling"
}

@test "rmi NAME of an image with two names: only that name goes" {
	pull "$MULTI_REF"
	run_skiff tag "$MULTI_REF" "$REGISTRY_ADDR/skiff/renamed:2"
	run_skiff rmi "$REGISTRY_ADDR/skiff/renamed:2"
	assert_equal "$output" "Untagged: $REGISTRY_ADDR/skiff/renamed:2" "output"
	run_skiff image exists "$MULTI_REF"
	run_skiff 1 image exists "$REGISTRY_ADDR/skiff/renamed:2"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 -maxdepth 1 | wc -l)" 2 "layers kept"
}

@test "rmi of the last name: the image, its layers and blobs go" {
	pull "$MULTI_REF"
	run_skiff rmi "$MULTI_REF"
	assert_equal "$output" "Untagged: $MULTI_REF"$'\n'"Deleted: ${MULTI_ID#sha256:}" "output"
	assert_equal "$(skiff_out images -q)" "" "images"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 | wc -l)" 0 "layers/"
	assert_equal "$(find "$SKIFF_ROOT/blobs" -type f | wc -l)" 0 "blobs"
	assert_equal "$(find "$SKIFF_ROOT/tmp" -name 'trash-*' | wc -l)" 0 "trash"
}

@test "rmi: a layer another image uses stays" {
	local manifest sibling=$BATS_TEST_TMPDIR/sibling digest size
	pull "$MULTI_REF"
	# The sibling: the same two layers under another config.
	cp -r "$LAYOUT" "$sibling"
	manifest=$(oci_manifest "$sibling" multilayer)
	jq -c '.config.Cmd = ["true"]' "$(oci_blob_path "$sibling" "$MULTI_ID")" >"$BATS_TEST_TMPDIR/config.json"
	read -r digest size < <(oci_put_blob "$sibling" "$BATS_TEST_TMPDIR/config.json")
	jq -c --arg d "$digest" --argjson s "$size" '.config.digest = $d | .config.size = $s' \
		<<<"$manifest" >"$BATS_TEST_TMPDIR/manifest.json"
	oci_set_manifest "$sibling" sibling "$BATS_TEST_TMPDIR/manifest.json"
	push_image "$sibling" sibling "$REGISTRY_ADDR/skiff/sibling:$BATS_TEST_NUMBER"
	pull "$REGISTRY_ADDR/skiff/sibling:$BATS_TEST_NUMBER"
	assert_equal "$(skiff_out images -q | wc -l)" 2 "images"

	run_skiff rmi "$MULTI_REF"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 -maxdepth 1 | wc -l)" 2 "layers kept"
	run_skiff image exists "$REGISTRY_ADDR/skiff/sibling:$BATS_TEST_NUMBER"
	run_skiff rmi "$REGISTRY_ADDR/skiff/sibling:$BATS_TEST_NUMBER"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 | wc -l)" 0 "layers/ after both"
}

@test "rmi of an unknown image: exit 1, image not known" {
	run_skiff 1 rmi "$REGISTRY_ADDR/skiff/nosuch:1"
	assert_contains "$output" "Error: $REGISTRY_ADDR/skiff/nosuch:1: image not known" "error"
}

@test "rmi of a known and an unknown image: the known one goes, exit 1" {
	pull "$MULTI_REF"
	run_skiff 1 rmi "$REGISTRY_ADDR/skiff/nosuch:1" "$MULTI_REF"
	assert_contains "$output" "Deleted: ${MULTI_ID#sha256:}" "output"
	assert_contains "$output" "image not known" "error"
	assert_equal "$(skiff_out images -q)" "" "images"
}

@test "rmi by ID prefix: the image goes whatever its names" {
	pull "$MULTI_REF"
	run_skiff tag "$MULTI_REF" "$REGISTRY_ADDR/skiff/renamed:2"
	run_skiff 125 rmi "$(short_id "$MULTI_ID")"
	assert_contains "$output" "by ID with more than one tag" "error"
	assert_equal "$(skiff_out images -q)" "$(short_id "$MULTI_ID")" "images"
	run_skiff rmi -f "$(short_id "$MULTI_ID")"
	assert_equal "$(skiff_out images -q)" "" "images"
}

@test "rmi -a: every image goes, the store is empty" {
	pull "$BUSYBOX_REF" "$MULTI_REF"
	# Two names need no --force with --all.
	run_skiff tag "$MULTI_REF" "$REGISTRY_ADDR/skiff/renamed:2"
	run_skiff rmi -a
	assert_equal "$(skiff_out images -q)" "" "images"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 | wc -l)" 0 "layers/"
	assert_equal "$(find "$SKIFF_ROOT/blobs" -type f | wc -l)" 0 "blobs"
}

@test "image exists: 0 for a known image, 1 for an unknown one" {
	pull "$MULTI_REF"
	run_skiff 0 image exists "$MULTI_REF"
	assert_equal "$output" "" "output"
	run_skiff 0 image exists "$(short_id "$MULTI_ID")"
	run_skiff 1 image exists "$REGISTRY_ADDR/skiff/multilayer:nosuch"
}

@test "image prune -f: an image whose tag moved to another is dangling and goes" {
	local repo=$REGISTRY_ADDR/skiff/moving-$BATS_TEST_NUMBER
	push_image "$LAYOUT" busybox "$repo:latest"
	pull "$repo:latest"
	push_image "$LAYOUT" multilayer "$repo:latest"
	pull "$repo:latest"

	assert_equal "$(skiff_out images -q --filter dangling=true)" "$(short_id "$BUSYBOX_ID")" "dangling"
	assert_equal "$(skiff_out images -q --filter dangling=false)" "$(short_id "$MULTI_ID")" "not dangling"
	run_skiff images --noheading
	assert_contains "$(squeeze <<<"$output")" "<none> <none> $(short_id "$BUSYBOX_ID")" "dangling row"
	run_skiff inspect --format '{{json .RepoDigests}}' "$BUSYBOX_ID"
	assert_equal "$output" "[]" "RepoDigests of the dangling image"

	run_skiff image prune -f
	assert_equal "$output" "${BUSYBOX_ID#sha256:}" "pruned"
	assert_equal "$(skiff_out images -q)" "$(short_id "$MULTI_ID")" "images"
	# busybox's layer is not one of multilayer's.
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 -maxdepth 1 | wc -l)" 2 "layers/"
}

@test "image prune -f: an untagged image goes, named ones stay" {
	pull "$BUSYBOX_REF" "$MULTI_REF"
	run_skiff untag "$BUSYBOX_REF"
	run_skiff image prune -f
	assert_equal "$(skiff_out images -q)" "$(short_id "$MULTI_ID")" "images"
}

@test "image prune -f: an image pulled by digest is not dangling" {
	local digest
	digest=$(registry_manifest_digest skiff/busybox latest)
	pull "$REGISTRY_ADDR/skiff/busybox@$digest"
	run_skiff image prune -f
	assert_equal "$(skiff_out images -q)" "$(short_id "$BUSYBOX_ID")" "images"
}

@test "image prune -a -f: every image without a container goes" {
	pull "$BUSYBOX_REF" "$MULTI_REF"
	run_skiff image prune -a -f
	assert_equal "$(skiff_out images -q)" "" "images"
	assert_equal "$(find "$SKIFF_ROOT/layers" -mindepth 1 | wc -l)" 0 "layers/"
}

@test "inspect: the image's shape" {
	local json config
	pull "$MULTI_REF"
	config=$(cat "$(oci_blob_path "$LAYOUT" "$MULTI_ID")")
	json=$(skiff_out inspect "$MULTI_REF")
	assert_equal "$(jq 'length' <<<"$json")" 1 "entries"
	assert_equal "$(jq -r '.[0].Id' <<<"$json")" "$MULTI_ID" "Id"
	assert_equal "$(jq -c '.[0].RepoTags' <<<"$json")" "[\"$MULTI_REF\"]" "RepoTags"
	assert_equal "$(jq -c '.[0].Config.Cmd' <<<"$json")" '["sh"]' "Config.Cmd"
	assert_equal "$(jq -c '.[0].Config.Env' <<<"$json")" "$(jq -c .config.Env <<<"$config")" "Config.Env"
	assert_equal "$(jq -c '.[0].RootFS' <<<"$json")" \
		"$(jq -c '{Type: "layers", Layers: .rootfs.diff_ids}' <<<"$config")" "RootFS"
	assert_equal "$(jq -r '.[0].Architecture' <<<"$json")" "$(oci_arch)" "Architecture"
	assert_equal "$(jq -r '.[0].Os' <<<"$json")" linux "Os"
	assert_equal "$(jq -r '.[0].Created' <<<"$json")" "2023-11-14T22:13:20Z" "Created"
	assert_match "$(jq -r '.[0].Size' <<<"$json")" '^[1-9][0-9]*$' "Size"
	assert_equal "$(jq -r '.[0].ManifestType' <<<"$json")" \
		application/vnd.oci.image.manifest.v1+json "ManifestType"
}

@test "inspect: Size is the sum of the uncompressed layers" {
	local size=0 digest manifest
	pull "$MULTI_REF"
	manifest=$(oci_manifest "$LAYOUT" multilayer)
	for digest in $(jq -r '.layers[].digest' <<<"$manifest"); do
		size=$((size + $(gzip -dc "$(oci_blob_path "$LAYOUT" "$digest")" | wc -c)))
	done
	assert_equal "$(skiff_out inspect --format '{{.Size}}' "$MULTI_REF")" "$size" "Size"
}

@test "inspect of several images: one entry each, in order" {
	pull "$BUSYBOX_REF" "$MULTI_REF"
	assert_equal "$(skiff_out inspect "$MULTI_REF" "$BUSYBOX_REF" | jq -r '.[].Id' | paste -sd' ')" \
		"$MULTI_ID $BUSYBOX_ID" "Ids"
}

@test "inspect of an unknown image: an error, exit 125" {
	run_skiff 125 inspect "$REGISTRY_ADDR/skiff/nosuch:1"
	assert_contains "$output" "Error: no such object: \"$REGISTRY_ADDR/skiff/nosuch:1\"" "error"
}

@test "history: one row per config history entry" {
	local n
	pull "$MULTI_REF"
	n=$(jq '.history | length' "$(oci_blob_path "$LAYOUT" "$MULTI_ID")")
	run_skiff history "$MULTI_REF"
	assert_equal "$(squeeze <<<"${lines[0]}")" "ID CREATED CREATED BY SIZE COMMENT" "header"
	assert_equal "$((${#lines[@]} - 1))" "$n" "rows"
	assert_equal "$(skiff_out history -q "$MULTI_REF" | wc -l)" "$n" "history -q"
	assert_equal "$(skiff_out history --format json "$MULTI_REF" | jq length)" "$n" "history --format json"
}

@test "history: the newest entry first, carrying the image ID" {
	pull "$MULTI_REF"
	run_skiff history --no-trunc --format '{{.ID}} {{.CreatedBy}}' "$MULTI_REF"
	assert_equal "${lines[0]}" "${MULTI_ID#sha256:} skiff test fixture" "top row"
	assert_equal "${lines[1]}" "<missing> skiff test fixture" "base row"
}

@test "history of an unknown image: an error" {
	run_skiff 125 history "$REGISTRY_ADDR/skiff/nosuch:1"
	assert_contains "$output" "Error: " "error"
	assert_contains "$output" "nosuch" "error"
}
