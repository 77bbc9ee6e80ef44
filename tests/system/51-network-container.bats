#!/usr/bin/env bats
# --network container:NAME: the new container shares the network namespace
# of the running container NAME (its interfaces, addresses and loopback)
# from inside NAME's user namespace; a target that is not running and
# published ports are refused.  The busybox fixture comes from a local
# registry; each test has its own store.

# shellcheck disable=SC2154 # bats' run sets status, output, lines and stderr
load helpers

setup_file() {
	container_image_setup
}

setup() {
	skiff_setup
}

teardown() {
	container_teardown
}

# An httpd container named web listening on port 8080 inside its own
# network namespace only (nothing published).
start_inner_web() {
	run_skiff run -d --name web "$CTR_IMAGE" sh -c \
		'mkdir -p /www && echo "hello from web" >/www/index.html && exec httpd -f -p 8080 -h /www'
}

# The body of http://127.0.0.1:8080/index.html as a container sharing web's
# network sees it; retried while httpd starts.
fetch_from_neighbour() {
	local i
	for i in $(seq 50); do
		if run_skiff '?' run --rm --network container:web "$CTR_IMAGE" \
			wget -q -O- http://127.0.0.1:8080/index.html && [[ $status -eq 0 ]]; then
			return 0
		fi
		sleep 0.2
	done
	return 1
}

@test "network container: reaches the target's server on 127.0.0.1" {
	pull_ctr_image
	start_inner_web
	fetch_from_neighbour || die "no answer from web on 127.0.0.1:8080: $output"
	assert_equal "$output" "hello from web" "body"
}

@test "network container: sees the target's tap0 with 10.0.2.100" {
	pull_ctr_image
	run_skiff run -d --name web "$CTR_IMAGE" sleep 100
	run_skiff run --rm --network container:web "$CTR_IMAGE" ip -4 addr show tap0
	assert_match "$output" "inet 10\.0\.2\.100/24" "tap0 address"
	run_skiff run --rm --network container:web "$CTR_IMAGE" cat /proc/net/dev
	assert_equal "$(awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' <<<"$output" |
		sort | tr '\n' ' ')" "lo tap0 " "interfaces"
}

@test "network container: keeps its own hostname and pid namespace" {
	pull_ctr_image
	run_skiff run -d --name web --hostname webhost "$CTR_IMAGE" sleep 100
	run_skiff run --rm --hostname other --network container:web "$CTR_IMAGE" \
		sh -c 'hostname; echo $$'
	assert_equal "${lines[0]}" "other" "hostname"
	assert_equal "${lines[1]}" "1" "PID of the command"
}

@test "network container: the mode is recorded as NetworkMode" {
	pull_ctr_image
	run_skiff run -d --name web "$CTR_IMAGE" sleep 100
	run_skiff create --name joined --network container:web "$CTR_IMAGE" true
	run_skiff inspect --format '{{.HostConfig.NetworkMode}}' joined
	assert_equal "$output" "container:web" "NetworkMode"
}

@test "network container: a target that is not running fails with exit 125" {
	pull_ctr_image
	run_skiff create --name web "$CTR_IMAGE" sleep 100
	run_skiff --separate-stderr 125 run --rm --network container:web "$CTR_IMAGE" true
	assert_contains "$stderr" "container web is not running" "stderr"
}

@test "network container: a missing target fails with exit 125" {
	pull_ctr_image
	run_skiff --separate-stderr 125 run --rm --network container:nosuch "$CTR_IMAGE" true
	assert_contains "$stderr" "nosuch" "stderr"
}

@test "network container: -p is refused" {
	pull_ctr_image
	run_skiff run -d --name web "$CTR_IMAGE" sleep 100
	run_skiff --separate-stderr 125 run --rm -p 8080 --network container:web "$CTR_IMAGE" true
	assert_contains "$stderr" "ports cannot be published with container network mode" "stderr"
}

# --network ns:PATH: a network namespace by path, joined inside the user
# namespace that owns it; here a running container's, through its
# process's /proc/PID/ns/net.

@test "network ns:PATH: a container's namespace by its /proc path, 127.0.0.1 and tap0 shared" {
	local pid i
	pull_ctr_image
	start_inner_web
	pid=$(skiff_cmd inspect --format '{{.State.Pid}}' web)
	[[ $pid =~ ^[1-9][0-9]*$ ]] || die "no pid for web: $pid"
	for i in $(seq 50); do
		run_skiff '?' run --rm --network "ns:/proc/$pid/ns/net" "$CTR_IMAGE" \
			sh -c 'ip -4 addr show tap0 | grep -o "inet [0-9./]*"; wget -q -O- http://127.0.0.1:8080/index.html'
		[[ $status -eq 0 ]] && break
		sleep 0.2
	done
	assert_equal "$output" $'inet 10.0.2.100/24\nhello from web' "tap0 and the neighbour's server"
}

@test "network ns:PATH: the host's namespace is refused rootless, naming why" {
	require_rootless
	pull_ctr_image
	run_skiff --separate-stderr 125 run --rm --network "ns:/proc/$$/ns/net" "$CTR_IMAGE" true
	assert_contains "$stderr" "belongs to the host's user namespace" "error"
	run_skiff ps -aq
	assert_equal "$output" "" "containers left (--rm)"
}

@test "network ns:PATH: a path that is not a network namespace fails with exit 125" {
	pull_ctr_image
	run_skiff --separate-stderr 125 run --rm --network ns:/etc/hostname "$CTR_IMAGE" true
	assert_contains "$stderr" '"/etc/hostname" is not a network namespace' "error"
	run_skiff --separate-stderr 125 run --rm --network ns:/nonexistent/net "$CTR_IMAGE" true
	assert_contains "$stderr" 'open "/nonexistent/net"' "error"
	run_skiff --separate-stderr 125 run --rm --network ns:relative "$CTR_IMAGE" true
	assert_contains "$stderr" "must be absolute" "error"
}
