#!/usr/bin/env bats
# An image made locally (commit of a container) is pushed, inspected and
# copied by skopeo as an independent client, and pulled back with the same
# digests.

load helpers

setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	build_busybox_image "$LAYOUT" busybox
	start_registry
	export BUSYBOX_REF=$REGISTRY_ADDR/skiff/busybox:latest
	push_image "$LAYOUT" busybox "$BUSYBOX_REF"
}

teardown() {
	"$SKIFF" --root "$SKIFF_ROOT" --runroot "$SKIFF_RUNROOT" rm -af >/dev/null 2>&1 || true
	skiff_teardown
}

@test "a committed image is pushed, read by skopeo, and pulled back with its digests" {
	local dest=$REGISTRY_ADDR/skiff/built:1 id digest
	run_skiff pull -q --tls-verify=false "$BUSYBOX_REF"
	run_skiff run --name maker "$BUSYBOX_REF" sh -c 'echo made-here > /made.txt'
	run_skiff commit -q maker localhost/built:1
	id=${output##*sha256:}
	run_skiff push --tls-verify=false --digestfile "$BATS_TEST_TMPDIR/digest" localhost/built:1 "$dest"
	digest=$(cat "$BATS_TEST_TMPDIR/digest")
	run skopeo inspect --tls-verify=false "docker://$dest"
	[ "$status" -eq 0 ] || die "skopeo inspect failed: $output"
	assert_equal "$(jq -r .Digest <<<"$output")" "$digest" "manifest digest seen by skopeo"
	run skopeo copy --insecure-policy --src-tls-verify=false --dest-tls-verify=false \
		"docker://$dest" "docker://$REGISTRY_ADDR/skiff/copied:1"
	[ "$status" -eq 0 ] || die "skopeo copy failed: $output"
	run_skiff rm -f maker
	run_skiff rmi -f localhost/built:1
	run_skiff pull -q --tls-verify=false "$REGISTRY_ADDR/skiff/copied:1"
	assert_equal "${output##*$'\n'}" "$id" "image ID after the round trip"
	run_skiff run --rm "$REGISTRY_ADDR/skiff/copied:1" cat /made.txt
	assert_equal "$output" "made-here"
}
