#!/usr/bin/env bats
# rmi and image prune against images that containers use: refused with
# podman's exit code 2, unless -f, which removes the containers first.

load helpers

setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	build_busybox_image "$LAYOUT" busybox
	start_registry
	export BUSYBOX_REF=$REGISTRY_ADDR/skiff/busybox:latest
	push_image "$LAYOUT" busybox "$BUSYBOX_REF"
}

@test "rmi refuses an image a container uses, with exit code 2" {
	run_skiff pull -q --tls-verify=false "$BUSYBOX_REF"
	run_skiff create --name user1 "$BUSYBOX_REF" true
	run_skiff 2 rmi "$BUSYBOX_REF"
	assert_contains "$output" "image is in use by a container"
	run_skiff image exists "$BUSYBOX_REF"
	run_skiff container exists user1
}

@test "image prune -a keeps an image a container uses" {
	run_skiff pull -q --tls-verify=false "$BUSYBOX_REF"
	run_skiff create --name user2 "$BUSYBOX_REF" true
	run_skiff image prune -af
	run_skiff image exists "$BUSYBOX_REF"
}

@test "rmi -f removes the containers that use the image, then the image" {
	run_skiff pull -q --tls-verify=false "$BUSYBOX_REF"
	run_skiff create --name user3 "$BUSYBOX_REF" true
	run_skiff rmi -f "$BUSYBOX_REF"
	run_skiff 1 container exists user3
	run_skiff 1 image exists "$BUSYBOX_REF"
	run_skiff ps -aq
	assert_equal "$output" "" "containers left"
}
