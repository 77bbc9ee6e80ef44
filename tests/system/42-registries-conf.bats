#!/usr/bin/env bats
# registries.conf as pull and push read it (the user's file under
# $XDG_CONFIG_HOME/containers, which skiff_setup makes private): short
# names tried in the order of unqualified-search-registries, aliases,
# mirrors tried before the location, blocked and insecure registries, and
# malformed files reported with their name and line.

load helpers

setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	build_busybox_image "$LAYOUT" busybox

	# The first search registry lacks the image, the second has it.
	start_registry
	export EMPTY_ADDR=$REGISTRY_ADDR
	start_registry
	export FULL_ADDR=$REGISTRY_ADDR FULL_DIR=$REGISTRY_DIR
	push_image "$LAYOUT" busybox "$FULL_ADDR/skiff/busybox:latest"
	start_registry
	export MIRROR_ADDR=$REGISTRY_ADDR MIRROR_DIR=$REGISTRY_DIR
	push_image "$LAYOUT" busybox "$MIRROR_ADDR/skiff/busybox:latest"
	# Nothing listens here.
	DEAD_ADDR=127.0.0.1:$(free_port)
	export DEAD_ADDR
	export BUSYBOX_ID
	BUSYBOX_ID=$(oci_manifest "$LAYOUT" busybox | jq -r .config.digest)
}

conf_file() {
	echo "$XDG_CONFIG_HOME/containers/registries.conf"
}

write_conf() {
	mkdir -p "$XDG_CONFIG_HOME/containers"
	cat >"$(conf_file)"
}

# Every registry of this file is plain HTTP.
insecure_entries() {
	local addr
	for addr in "$EMPTY_ADDR" "$FULL_ADDR" "$MIRROR_ADDR" "$DEAD_ADDR"; do
		printf '[[registry]]\nlocation = "%s"\ninsecure = true\n\n' "$addr"
	done
}

@test "a short name with two search registries: tried in order, the second has it" {
	write_conf <<EOF
unqualified-search-registries = ["$EMPTY_ADDR", "$FULL_ADDR"]
$(insecure_entries)
EOF
	run_skiff pull skiff/busybox
	assert_contains "$output" "Trying to pull $EMPTY_ADDR/skiff/busybox:latest..." "first try"
	assert_contains "$output" "Trying to pull $FULL_ADDR/skiff/busybox:latest..." "second try"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	assert_equal "$output" "$FULL_ADDR/skiff/busybox:latest" "images"
}

@test "a short name found nowhere: the error names the last registry tried" {
	write_conf <<EOF
unqualified-search-registries = ["$EMPTY_ADDR"]
$(insecure_entries)
EOF
	run_skiff 125 pull skiff/busybox
	assert_contains "$output" "$EMPTY_ADDR/skiff/busybox:latest" "error"
}

@test "an alias: the short name pulls what [aliases] says" {
	write_conf <<EOF
unqualified-search-registries = []
[aliases]
"mybox" = "$FULL_ADDR/skiff/busybox"
$(insecure_entries)
EOF
	run_skiff pull -q mybox
	assert_equal "$output" "${BUSYBOX_ID#sha256:}" "image ID"
}

@test "a blocked registry: pull is refused with a clear error" {
	write_conf <<EOF
[[registry]]
location = "$FULL_ADDR"
blocked = true
EOF
	run_skiff 125 pull --tls-verify=false "$FULL_ADDR/skiff/busybox:latest"
	assert_contains "$output" "is blocked by registries.conf" "error"
	run_skiff images -q
	assert_equal "$output" "" "images"
}

@test "a blocked registry: push is refused with a clear error" {
	run_skiff pull -q --tls-verify=false "$FULL_ADDR/skiff/busybox:latest"
	write_conf <<EOF
[[registry]]
prefix = "$EMPTY_ADDR/blocked"
location = "$EMPTY_ADDR/blocked"
blocked = true
EOF
	run_skiff 125 push --tls-verify=false "$FULL_ADDR/skiff/busybox:latest" \
		"$EMPTY_ADDR/blocked/busybox:latest"
	assert_contains "$output" "image \"$EMPTY_ADDR/blocked/busybox:latest\" is blocked by registries.conf" "error"
	# Another namespace of the same registry is not blocked.
	run_skiff push -q --tls-verify=false "$FULL_ADDR/skiff/busybox:latest" \
		"$EMPTY_ADDR/open/busybox:latest"
}

@test "insecure = true: plain HTTP without --tls-verify=false" {
	write_conf <<EOF
$(insecure_entries)
EOF
	run_skiff pull -q "$FULL_ADDR/skiff/busybox:latest"
	assert_equal "$output" "${BUSYBOX_ID#sha256:}" "image ID"
}

@test "a mirror that is up: the pull goes to it" {
	write_conf <<EOF
[[registry]]
location = "$DEAD_ADDR"
insecure = true
[[registry.mirror]]
location = "$MIRROR_ADDR"
insecure = true
EOF
	run_skiff pull -q "$DEAD_ADDR/skiff/busybox:latest"
	assert_equal "$output" "${BUSYBOX_ID#sha256:}" "image ID"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	assert_equal "$output" "$DEAD_ADDR/skiff/busybox:latest" "the name asked for"
}

@test "a mirror that is down: the pull falls back to the location" {
	write_conf <<EOF
[[registry]]
location = "$FULL_ADDR"
insecure = true
[[registry.mirror]]
location = "$DEAD_ADDR"
insecure = true
EOF
	run_skiff --separate-stderr pull -q "$FULL_ADDR/skiff/busybox:latest"
	assert_equal "$output" "${BUSYBOX_ID#sha256:}" "image ID"
	run_skiff images --format '{{.Repository}}:{{.Tag}}'
	assert_equal "$output" "$FULL_ADDR/skiff/busybox:latest" "images"
}

@test "a malformed registries.conf: the error names the file and the line" {
	write_conf <<'EOF'
unqualified-search-registries = ["docker.io"]

[[registry]
location = "x"
EOF
	run_skiff 125 pull busybox
	assert_contains "$output" "$(conf_file):3:" "error"
}

@test "a malformed drop-in: the error names the drop-in and the line" {
	write_conf </dev/null
	mkdir -p "$XDG_CONFIG_HOME/containers/registries.conf.d"
	printf '# ok\nunqualified-search-registries = "not a list"\n' \
		>"$XDG_CONFIG_HOME/containers/registries.conf.d/50-bad.conf"
	run_skiff 125 pull busybox
	assert_contains "$output" "registries.conf.d/50-bad.conf:2:" "error"
}

@test "a malformed registries.conf: push reports it too" {
	run_skiff pull -q --tls-verify=false "$FULL_ADDR/skiff/busybox:latest"
	write_conf <<'EOF'
[[registry]]
insecure = "yes"
EOF
	run_skiff 125 push --tls-verify=false "$FULL_ADDR/skiff/busybox:latest" "$EMPTY_ADDR/x/y:z"
	assert_contains "$output" "$(conf_file):2:" "error"
}
