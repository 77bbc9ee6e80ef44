#!/usr/bin/env bats
# skiff login and logout against a registry with htpasswd (Basic) auth and
# one behind a token service: credentials are checked before they are
# stored, land in $XDG_RUNTIME_DIR/containers/auth.json (mode 0600, the
# format podman and skopeo read) or in a credential helper, are used by
# pull and push, and go with logout.  Secrets must never show in a helper's
# argv.

load helpers

setup_file() {
	export LAYOUT=$BATS_FILE_TMPDIR/layout
	build_busybox_image "$LAYOUT" busybox

	make_htpasswd "$BATS_FILE_TMPDIR/htpasswd" skiffuser 's3cret pass'
	start_registry --htpasswd "$BATS_FILE_TMPDIR/htpasswd"
	export BASIC_ADDR=$REGISTRY_ADDR
	REGISTRY_CREDS='skiffuser:s3cret pass' push_image "$LAYOUT" busybox \
		"$BASIC_ADDR/private/busybox:latest"

	start_token_registry tokenuser 'token pass' --private private
	export TOKEN_ADDR=$REGISTRY_ADDR
	REGISTRY_CREDS='tokenuser:token pass' push_image "$LAYOUT" busybox \
		"$TOKEN_ADDR/private/busybox:latest"
}

auth_json() {
	echo "$XDG_RUNTIME_DIR/containers/auth.json"
}

# auth_of FILE KEY: the decoded "auth" of FILE's entry KEY, empty when none.
auth_of() {
	jq -r --arg k "$2" '.auths[$k].auth // empty' "$1" 2>/dev/null | base64 -d
}

login() {
	local rc=0
	if is_expected_rc "${1-}"; then
		rc=$1
		shift
	fi
	run_skiff "$rc" login --tls-verify=false "$@"
}

# A local image to push: busybox, pulled with --creds (which stores nothing).
pull_fixture() {
	run_skiff pull -q --tls-verify=false --creds 'skiffuser:s3cret pass' \
		"$BASIC_ADDR/private/busybox:latest"
}

push_to() {
	local rc=0
	if is_expected_rc "${1-}"; then
		rc=$1
		shift
	fi
	run_skiff "$rc" push -q --tls-verify=false "$BASIC_ADDR/private/busybox:latest" "$@"
}

# docker-credential-test in $SKIFF_TEST_DIR/bin, first on PATH: keeps one
# JSON file per server in $SKIFF_TEST_DIR/helper, and logs each call's
# command line as the kernel shows it (what ps prints) and its stdin.
install_helper() {
	mkdir -p "$SKIFF_TEST_DIR/bin" "$SKIFF_TEST_DIR/helper"
	cat >"$SKIFF_TEST_DIR/bin/docker-credential-test" <<'EOF'
#!/bin/sh
dir=$(dirname "$0")/../helper
tr '\0' ' ' </proc/$$/cmdline >>"$dir/cmdline.log"
echo >>"$dir/cmdline.log"
input=$(cat)
printf '%s\n' "$input" >>"$dir/stdin.log"
file() { echo "$dir/$(printf %s "$1" | tr '/:' '__').json"; }
case $1 in
get)
	f=$(file "$input")
	if [ -f "$f" ]; then cat "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
store)
	printf %s "$input" >"$(file "$(printf %s "$input" | jq -r .ServerURL)")" ;;
erase)
	f=$(file "$input")
	if [ -f "$f" ]; then rm "$f"; else echo "credentials not found in native keychain"; exit 1; fi ;;
*)
	exit 2 ;;
esac
EOF
	chmod +x "$SKIFF_TEST_DIR/bin/docker-credential-test"
	export PATH=$SKIFF_TEST_DIR/bin:$PATH
}

# ---------------------------------------------------------------------------
# Basic auth

@test "push to a registry with basic auth: refused without login" {
	pull_fixture
	push_to 125 "$BASIC_ADDR/pushed/busybox:v1"
	assert_contains "$output" "\"$BASIC_ADDR\" requires authentication: log in with \"skiff login $BASIC_ADDR\"" "error"
}

@test "push --creds: basic auth without login, nothing stored" {
	pull_fixture
	run_skiff push -q --tls-verify=false --creds 'skiffuser:s3cret pass' \
		"$BASIC_ADDR/private/busybox:latest" "$BASIC_ADDR/creds/busybox:v1"
	[[ ! -e $(auth_json) ]] || die "auth.json was written"
}

@test "login with a wrong password: unauthorized, exit 125, nothing stored" {
	login 125 -u skiffuser -p wrong "$BASIC_ADDR"
	assert_contains "$output" "unauthorized" "error"
	assert_not_contains "$output" "wrong" "error"
	[[ ! -e $(auth_json) ]] || die "auth.json was written: $(cat "$(auth_json)")"
}

@test "login: auth.json mode 0600 with the entry; push and pull then work" {
	pull_fixture
	login -u skiffuser -p 's3cret pass' "$BASIC_ADDR"
	assert_equal "$output" "Login Succeeded!" "output"
	assert_equal "$(stat -c %a "$(auth_json)")" 600 "auth.json mode"
	assert_equal "$(auth_of "$(auth_json)" "$BASIC_ADDR")" "skiffuser:s3cret pass" "entry"
	push_to "$BASIC_ADDR/pushed/busybox:v1"
	run_skiff rmi -a
	run_skiff pull -q --tls-verify=false "$BASIC_ADDR/pushed/busybox:v1"
}

@test "login --password-stdin: the password from stdin" {
	run_skiff login --tls-verify=false -u skiffuser --password-stdin "$BASIC_ADDR" \
		< <(printf 's3cret pass\n')
	assert_equal "$output" "Login Succeeded!" "output"
	assert_equal "$(auth_of "$(auth_json)" "$BASIC_ADDR")" "skiffuser:s3cret pass" "entry"
}

@test "login --password-stdin with a wrong password: nothing stored" {
	run_skiff 125 login --tls-verify=false -u skiffuser --password-stdin "$BASIC_ADDR" \
		< <(printf 'nope\n')
	assert_contains "$output" "unauthorized" "error"
	[[ ! -e $(auth_json) ]] || die "auth.json was written"
}

@test "login without a user name and no terminal: an error saying what to pass" {
	run_skiff 125 login --tls-verify=false "$BASIC_ADDR" </dev/null
	assert_contains "$output" "pass -u USERNAME" "error"
}

@test "login --password and --password-stdin together: an error" {
	login 125 -u skiffuser -p x --password-stdin "$BASIC_ADDR"
	assert_contains "$output" "cannot be used together" "error"
}

@test "login keeps other entries and keys of auth.json" {
	mkdir -p "$(dirname "$(auth_json)")"
	echo '{"auths":{"quay.io":{"auth":"eDp5"}},"credHelpers":{"gcr.io":"gcloud"}}' >"$(auth_json)"
	login -u skiffuser -p 's3cret pass' "$BASIC_ADDR"
	assert_equal "$(jq -r '.auths["quay.io"].auth' "$(auth_json)")" eDp5 "other entry"
	assert_equal "$(jq -r '.credHelpers["gcr.io"]' "$(auth_json)")" gcloud "credHelpers"
	assert_equal "$(auth_of "$(auth_json)" "$BASIC_ADDR")" "skiffuser:s3cret pass" "entry"
}

@test "login again without credentials: the stored ones are checked and kept" {
	login -u skiffuser -p 's3cret pass' "$BASIC_ADDR"
	login "$BASIC_ADDR" </dev/null
	assert_contains "$output" "Already logged in to $BASIC_ADDR" "output"
}

@test "login --get-login: the stored user name; an error when logged out" {
	login 125 --get-login "$BASIC_ADDR"
	assert_contains "$output" "not logged into $BASIC_ADDR" "error"
	login -u skiffuser -p 's3cret pass' "$BASIC_ADDR"
	login --get-login "$BASIC_ADDR"
	assert_equal "$output" skiffuser "user"
}

@test "login --authfile: the entry goes to that file only" {
	login --authfile "$SKIFF_TEST_DIR/my-auth.json" -u skiffuser -p 's3cret pass' "$BASIC_ADDR"
	assert_equal "$(auth_of "$SKIFF_TEST_DIR/my-auth.json" "$BASIC_ADDR")" "skiffuser:s3cret pass" "entry"
	[[ ! -e $(auth_json) ]] || die "auth.json was written"
	pull_fixture
	push_to 125 "$BASIC_ADDR/authfile/busybox:v1"
	run_skiff push -q --tls-verify=false --authfile "$SKIFF_TEST_DIR/my-auth.json" \
		"$BASIC_ADDR/private/busybox:latest" "$BASIC_ADDR/authfile/busybox:v1"
}

@test "login --compat-auth-file: docker's config.json gets the entry" {
	login --compat-auth-file "$SKIFF_TEST_DIR/docker/config.json" -u skiffuser \
		-p 's3cret pass' "$BASIC_ADDR"
	assert_equal "$(auth_of "$SKIFF_TEST_DIR/docker/config.json" "$BASIC_ADDR")" \
		"skiffuser:s3cret pass" "entry"
	# skiff reads docker's config for pulls (DOCKER_CONFIG).
	DOCKER_CONFIG=$SKIFF_TEST_DIR/docker run_skiff pull -q --tls-verify=false \
		"$BASIC_ADDR/private/busybox:latest"
}

@test "skopeo reads the credentials skiff stored" {
	local dir
	login -u skiffuser -p 's3cret pass' "$BASIC_ADDR"
	dir=$(skopeo_env_dir)
	run skopeo --registries-conf "$dir/registries.conf" inspect --tls-verify=false \
		--authfile "$(auth_json)" --raw "docker://$BASIC_ADDR/private/busybox:latest"
	assert_equal "$status" 0 "skopeo inspect: $output"
}

# ---------------------------------------------------------------------------
# logout

@test "logout: the entry goes, other entries stay, push is refused again" {
	pull_fixture
	mkdir -p "$(dirname "$(auth_json)")"
	echo '{"auths":{"quay.io":{"auth":"eDp5"}}}' >"$(auth_json)"
	login -u skiffuser -p 's3cret pass' "$BASIC_ADDR"
	run_skiff logout "$BASIC_ADDR"
	assert_equal "$output" "Removed login credentials for $BASIC_ADDR" "output"
	assert_equal "$(auth_of "$(auth_json)" "$BASIC_ADDR")" "" "entry"
	assert_equal "$(jq -r '.auths["quay.io"].auth' "$(auth_json)")" eDp5 "other entry"
	assert_equal "$(stat -c %a "$(auth_json)")" 600 "auth.json mode"
	push_to 125 "$BASIC_ADDR/loggedout/busybox:v1"
}

@test "logout when not logged in: an error, exit 125" {
	run_skiff 125 logout "$BASIC_ADDR"
	assert_contains "$output" "not logged into $BASIC_ADDR" "error"
}

@test "logout -a: every entry goes" {
	mkdir -p "$(dirname "$(auth_json)")"
	echo '{"auths":{"quay.io":{"auth":"eDp5"}},"other":true}' >"$(auth_json)"
	login -u skiffuser -p 's3cret pass' "$BASIC_ADDR"
	run_skiff logout -a
	assert_equal "$output" "Removed login credentials for all registries" "output"
	assert_equal "$(jq -c .auths "$(auth_json)")" "{}" "auths"
	assert_equal "$(jq -c .other "$(auth_json)")" "true" "other keys"
}

# ---------------------------------------------------------------------------
# token service

@test "login to a token-service registry with a wrong password: unauthorized, nothing stored" {
	login 125 -u tokenuser -p wrong "$TOKEN_ADDR"
	assert_contains "$output" "unauthorized" "error"
	[[ ! -e $(auth_json) ]] || die "auth.json was written"
}

@test "login to a token-service registry: the token service gets the credentials on pull and push" {
	login -u tokenuser -p 'token pass' "$TOKEN_ADDR"
	assert_equal "$(auth_of "$(auth_json)" "$TOKEN_ADDR")" "tokenuser:token pass" "entry"
	: >"$TOKEN_LOG"
	run_skiff pull -q --tls-verify=false "$TOKEN_ADDR/private/busybox:latest"
	run_skiff push -q --tls-verify=false "$TOKEN_ADDR/private/busybox:latest" \
		"$TOKEN_ADDR/private/pushed:v1"
	assert_contains "$(cat "$TOKEN_LOG")" "tokenuser repository:private/busybox:pull -> 200" "token log"
	assert_contains "$(cat "$TOKEN_LOG")" "tokenuser repository:private/pushed:pull,push" "token log"
	assert_not_contains "$(cat "$TOKEN_LOG")" "-> 401" "token log"
}

# ---------------------------------------------------------------------------
# credential helpers

@test "login with credHelpers: the helper stores the secret, from stdin, never from argv" {
	install_helper
	mkdir -p "$(dirname "$(auth_json)")"
	jq -n --arg r "$BASIC_ADDR" '{credHelpers: {($r): "test"}}' >"$(auth_json)"
	run_skiff login --tls-verify=false -u skiffuser --password-stdin "$BASIC_ADDR" \
		< <(printf 's3cret pass\n')
	assert_equal "$output" "Login Succeeded!" "output"
	assert_equal "$(jq -r .Secret "$SKIFF_TEST_DIR/helper/${BASIC_ADDR//:/_}.json")" \
		"s3cret pass" "what the helper holds"
	assert_equal "$(jq -c .auths "$(auth_json)")" null "auth.json entries"
	assert_contains "$(cat "$SKIFF_TEST_DIR/helper/cmdline.log")" "docker-credential-test store" "helper call"
	assert_not_contains "$(cat "$SKIFF_TEST_DIR/helper/cmdline.log")" "s3cret" "helper argv"
	assert_contains "$(cat "$SKIFF_TEST_DIR/helper/stdin.log")" '"Secret":"s3cret pass"' "helper stdin"
}

@test "credHelpers: pull and push get the credentials from the helper" {
	install_helper
	mkdir -p "$(dirname "$(auth_json)")"
	jq -n --arg r "$BASIC_ADDR" '{credHelpers: {($r): "test"}}' >"$(auth_json)"
	jq -n --arg r "$BASIC_ADDR" '{ServerURL: $r, Username: "skiffuser", Secret: "s3cret pass"}' \
		>"$SKIFF_TEST_DIR/helper/${BASIC_ADDR//:/_}.json"
	run_skiff pull -q --tls-verify=false "$BASIC_ADDR/private/busybox:latest"
	run_skiff push -q --tls-verify=false "$BASIC_ADDR/private/busybox:latest" \
		"$BASIC_ADDR/helper/busybox:v1"
	assert_contains "$(cat "$SKIFF_TEST_DIR/helper/cmdline.log")" "docker-credential-test get" "helper call"
	assert_equal "$(sort -u "$SKIFF_TEST_DIR/helper/stdin.log")" "$BASIC_ADDR" "what get was asked"
}

@test "credsStore: login, pull and logout go through the helper" {
	install_helper
	mkdir -p "$(dirname "$(auth_json)")"
	echo '{"credsStore":"test"}' >"$(auth_json)"
	login -u skiffuser -p 's3cret pass' "$BASIC_ADDR"
	[[ -f $SKIFF_TEST_DIR/helper/${BASIC_ADDR//:/_}.json ]] || die "the helper holds nothing"
	run_skiff pull -q --tls-verify=false "$BASIC_ADDR/private/busybox:latest"
	run_skiff logout "$BASIC_ADDR"
	[[ ! -f $SKIFF_TEST_DIR/helper/${BASIC_ADDR//:/_}.json ]] || die "the helper still holds it"
	assert_contains "$(cat "$SKIFF_TEST_DIR/helper/cmdline.log")" "docker-credential-test erase" "helper call"
}

@test "a credential helper that is not installed: an error naming it" {
	mkdir -p "$(dirname "$(auth_json)")"
	jq -n --arg r "$BASIC_ADDR" '{credHelpers: {($r): "absent"}}' >"$(auth_json)"
	run_skiff 125 pull -q --tls-verify=false "$BASIC_ADDR/private/busybox:latest"
	assert_contains "$output" "credential helper \"docker-credential-absent\" not found" "error"
}
