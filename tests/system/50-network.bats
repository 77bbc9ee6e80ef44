#!/usr/bin/env bats
# Container networking: the default slirp network (tap0, routes, the files
# skiff writes), --network none/host/slirp4netns options, published TCP and
# UDP ports and their errors, the host's loopback, and the monitor that
# serves the network: idle without CPU, no descriptor leaked over many
# connections.  The busybox fixture comes from a local registry; each test
# has its own store.

# shellcheck disable=SC2154 # bats' run sets status, output, lines and stderr
load helpers

setup_file() {
	container_image_setup
	# busybox's nc has no UDP mode: a static UDP echo server, built here,
	# bind-mounted into the container.
	if command -v gcc >/dev/null; then
		cat >"$BATS_FILE_TMPDIR/udpecho.c" <<-'EOF'
			#include <netinet/in.h>
			#include <stdlib.h>
			#include <sys/socket.h>
			int main (int argc, char **argv)
			{
			  struct sockaddr_in a = { .sin_family = AF_INET };
			  int s = socket (AF_INET, SOCK_DGRAM, 0);
			  a.sin_port = htons (argc > 1 ? atoi (argv[1]) : 53);
			  if (s < 0 || bind (s, (struct sockaddr *) &a, sizeof a) < 0)
			    return 1;
			  for (;;)
			    {
			      char buf[2048];
			      struct sockaddr_storage peer;
			      socklen_t len = sizeof peer;
			      ssize_t n = recvfrom (s, buf, sizeof buf, 0, (struct sockaddr *) &peer, &len);
			      if (n >= 0)
			        sendto (s, buf, n, 0, (struct sockaddr *) &peer, len);
			    }
			}
		EOF
		gcc -static -O2 -o "$BATS_FILE_TMPDIR/udpecho" "$BATS_FILE_TMPDIR/udpecho.c" 2>/dev/null ||
			rm -f "$BATS_FILE_TMPDIR/udpecho"
	fi
}

setup() {
	skiff_setup
	HOST_PIDS=()
}

teardown() {
	local pid
	for pid in "${HOST_PIDS[@]}"; do
		kill "$pid" 2>/dev/null || true
	done
	container_teardown
}

# An httpd container named NAME serving directory $SKIFF_TEST_DIR/www (with
# index.html "hello from the volume") on a host port skiff chooses; sets
# WEB_PORT.
start_web() {
	local name=$1
	shift
	mkdir -p "$SKIFF_TEST_DIR/www"
	echo "hello from the volume" >"$SKIFF_TEST_DIR/www/index.html"
	run_skiff run -d --name "$name" -p 80 "$@" -v "$SKIFF_TEST_DIR/www:/www:ro" \
		"$CTR_IMAGE" httpd -f -p 80 -h /www
	WEB_PORT=$(ctr_host_port "$name" 80/tcp) || die "skiff port $name 80/tcp: no host port"
	wait_until 100 http_get_ok "$WEB_PORT" index.html
}

# Start a python3 HTTP server on the host's 127.0.0.1; sets HOST_HTTP_PORT.
start_host_http() {
	local dir=$SKIFF_TEST_DIR/host-www
	mkdir -p "$dir"
	echo "host side" >"$dir/index.html"
	HOST_HTTP_PORT=$(free_port)
	python3 -m http.server --bind 127.0.0.1 --directory "$dir" "$HOST_HTTP_PORT" \
		</dev/null >/dev/null 2>&1 3>&- &
	HOST_PIDS+=("$!")
	wait_until 100 http_get_ok "$HOST_HTTP_PORT" index.html "host side"
}

# The interface names of a /proc/net/dev, sorted, one a line.
netdev_names() {
	awk -F: 'NR > 2 { gsub(/ /, "", $1); print $1 }' | sort
}

# ---------------------------------------------------------------------------
# Published ports

@test "network: -p 80 httpd answers curl on 127.0.0.1 with a file from a volume" {
	pull_ctr_image
	start_web web
	run curl -sf --max-time 5 "http://127.0.0.1:$WEB_PORT/index.html"
	assert_equal "$status" 0 "curl exit"
	assert_equal "$output" "hello from the volume" "body"
}

@test "network: -p PORT:53/udp echoes a datagram" {
	[[ -x $BATS_FILE_TMPDIR/udpecho ]] || skip "no static UDP echo server (gcc -static failed)"
	pull_ctr_image
	local port
	port=$(free_port)
	run_skiff run -d --name udp -p "$port:53/udp" \
		-v "$BATS_FILE_TMPDIR/udpecho:/udpecho:ro" "$CTR_IMAGE" /udpecho 53
	run python3 -c '
import socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
s.settimeout(0.5)
for _ in range(40):
    s.sendto(b"ping over udp", ("127.0.0.1", int(sys.argv[1])))
    try:
        print(s.recvfrom(2048)[0].decode())
        sys.exit(0)
    except socket.timeout:
        pass
sys.exit(1)' "$port"
	assert_equal "$status" 0 "echo received"
	assert_equal "$output" "ping over udp" "echo"
}

@test "network: a used host port fails with exit 125, nothing left running" {
	pull_ctr_image
	start_web first
	run_skiff --separate-stderr 125 run -d --name second -p "$WEB_PORT:80" "$CTR_IMAGE" sleep 100
	assert_contains "$stderr" "already in use" "stderr"
	# Like docker and podman, the container stays, created, never started.
	run_skiff inspect --format '{{.State.Status}} {{.State.Pid}}' second
	assert_equal "$output" "created 0" "second's state"
	run_skiff ps -q --no-trunc
	assert_equal "$output" "$(skiff_cmd inspect --format '{{.Id}}' first)" "running containers"
}

@test "network: a host port below ip_unprivileged_port_start names the sysctl" {
	require_rootless
	local start
	start=$(</proc/sys/net/ipv4/ip_unprivileged_port_start)
	((start > 1)) || skip "net.ipv4.ip_unprivileged_port_start is $start"
	pull_ctr_image
	run_skiff --separate-stderr '?' run --rm -p "$((start - 1)):80" "$CTR_IMAGE" true
	[[ $status -ne 0 ]] || die "run succeeded"
	assert_contains "$stderr" "ip_unprivileged_port_start" "stderr"
	run_skiff ps -a -q
	assert_equal "$output" "" "containers left"
}

# ---------------------------------------------------------------------------
# Network modes and the files

# The network is set up from the host while the container's first process
# waits; a process that has already changed user is no longer dumpable and
# its /proc/PID/ns files refuse the host.  Each run must start.
@test "network: a container with --user starts with the default network, every time" {
	local i
	pull_ctr_image
	for i in $(seq 12); do
		run_skiff run --rm --user 1234:1234 "$CTR_IMAGE" id -u
		assert_equal "$output" "1234" "run $i"
	done
}

@test "network: --network none has only lo" {
	pull_ctr_image
	run_skiff run --rm --network none "$CTR_IMAGE" cat /proc/net/dev
	assert_equal "$(netdev_names <<<"$output")" "lo" "interfaces"
}

@test "network: the default network has tap0 10.0.2.100 and a route via 10.0.2.2" {
	pull_ctr_image
	run_skiff run --rm "$CTR_IMAGE" sh -c 'ip -4 addr show tap0; echo ---; ip -4 route'
	assert_match "$output" "inet 10\.0\.2\.100/24" "tap0 address"
	assert_match "$output" "default via 10\.0\.2\.2 dev tap0" "default route"
	run_skiff run --rm "$CTR_IMAGE" cat /proc/net/dev
	assert_equal "$(netdev_names <<<"$output" | tr '\n' ' ')" "lo tap0 " "interfaces"
}

@test "network: the default resolv.conf and hosts point at slirp" {
	pull_ctr_image
	run_skiff run --rm --name named "$CTR_IMAGE" cat /etc/resolv.conf
	assert_match "$output" "(^|$'\n')nameserver 10\.0\.2\.3" "resolv.conf"
	run_skiff run --rm --name named "$CTR_IMAGE" cat /etc/hosts
	assert_match "$output" "10\.0\.2\.2[[:space:]]+([^[:space:]]+[[:space:]]+)*host\.containers\.internal" "hosts: gateway"
	assert_match "$output" "[[:space:]]named([[:space:]]|$)" "hosts: the container's name"
}

@test "network: --network host sees the host's interfaces" {
	pull_ctr_image
	run_skiff run --rm --network host "$CTR_IMAGE" cat /proc/net/dev
	assert_equal "$(netdev_names <<<"$output")" "$(netdev_names </proc/net/dev)" "interfaces"
}

@test "network: --add-host, --dns, --dns-search, --dns-option and --hostname land in the files" {
	pull_ctr_image
	run_skiff run --rm --add-host foo:1.2.3.4 --dns 9.9.9.9 --dns-search example.com \
		--dns-option ndots:2 --hostname box1 "$CTR_IMAGE" \
		sh -c 'cat /etc/hosts; echo ---; cat /etc/resolv.conf; echo ---; hostname; cat /etc/hostname'
	local hosts=${output%%---*} rest=${output#*---}
	local resolv=${rest%%---*} names=${rest#*---}
	assert_match "$hosts" "1\.2\.3\.4[[:space:]]+foo" "hosts: --add-host"
	assert_match "$hosts" "[[:space:]]box1([[:space:]]|$)" "hosts: --hostname"
	assert_match "$resolv" "nameserver 9\.9\.9\.9" "resolv.conf: --dns"
	assert_not_contains "$resolv" "10.0.2.3" "resolv.conf: slirp's DNS replaced"
	assert_match "$resolv" "search[[:space:]]+example\.com" "resolv.conf: --dns-search"
	assert_match "$resolv" "options[[:space:]]+([^[:space:]]+[[:space:]]+)*ndots:2" "resolv.conf: --dns-option"
	assert_equal "$(tr -s "[:space:]" " " <<<"$names")" " box1 box1 " "hostname"
}

@test "network: --no-hosts leaves the image's /etc/hosts alone" {
	pull_ctr_image
	run_skiff run --rm --no-hosts --add-host foo:1.2.3.4 --name nohosts "$CTR_IMAGE" \
		sh -c 'if [ -e /etc/hosts ]; then cat /etc/hosts; else echo "no hosts file"; fi'
	# The fixture has no /etc/hosts; skiff must not make one.
	assert_equal "$output" "no hosts file" "/etc/hosts"
	assert_not_contains "$output" "foo" "hosts: --add-host"
	assert_not_contains "$output" "host.containers.internal" "hosts: gateway"
	assert_not_contains "$output" "nohosts" "hosts: name"
}

# ---------------------------------------------------------------------------
# The host's loopback

@test "network: the host's 127.0.0.1 is not reachable at 10.0.2.2 by default" {
	pull_ctr_image
	start_host_http
	run_skiff '?' run --rm "$CTR_IMAGE" \
		sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 2 10.0.2.2 $HOST_HTTP_PORT"
	assert_not_contains "$output" "host side" "reply"
	[[ $status -ne 0 ]] || die "nc succeeded: $output"
}

@test "network: allow_host_loopback=true reaches the host's 127.0.0.1 at 10.0.2.2" {
	pull_ctr_image
	start_host_http
	run_skiff run --rm --network slirp4netns:allow_host_loopback=true "$CTR_IMAGE" \
		sh -c "printf 'GET /index.html HTTP/1.0\r\n\r\n' | nc -w 5 10.0.2.2 $HOST_HTTP_PORT"
	assert_contains "$output" "host side" "reply"
}

# ---------------------------------------------------------------------------
# The monitor

@test "network: an idle container's monitor uses no CPU over 5 seconds" {
	pull_ctr_image
	local monitor before after
	start_web idle
	monitor=$(ctr_monitor_pid idle)
	pid_alive "$monitor" || die "monitor $monitor not running"
	sleep 1
	before=$(proc_cpu_ticks "$monitor")
	sleep 5
	after=$(proc_cpu_ticks "$monitor")
	((after - before <= 2)) || die "monitor used $((after - before)) ticks in 5 s"
}

@test "network: 2000 connections through a published port leak no descriptor" {
	pull_ctr_image
	local monitor fds_before fds_after
	start_web busy
	monitor=$(ctr_monitor_pid busy)
	fds_before=$(proc_fd_count "$monitor")
	run python3 -c '
import socket, sys
port = int(sys.argv[1])
for i in range(2000):
    s = socket.create_connection(("127.0.0.1", port), timeout=10)
    s.sendall(b"GET /index.html HTTP/1.0\r\n\r\n")
    data = b""
    while True:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    s.close()
    if b"hello from the volume" not in data:
        print("request %d: %r" % (i, data[:200]))
        sys.exit(1)
print("ok")' "$WEB_PORT"
	assert_equal "$output" "ok" "2000 requests"
	http_get_ok "$WEB_PORT" index.html "hello from the volume" || die "httpd stopped answering"
	fds_returned() {
		fds_after=$(proc_fd_count "$monitor")
		[[ $fds_after -le $fds_before ]]
	}
	wait_until 100 fds_returned
	run_skiff inspect --format '{{.State.Status}}' busy
	assert_equal "$output" "running" "status"
}

# ---------------------------------------------------------------------------
# DNS

# A DNS responder for one name: A queries for NAME get ADDRESS, other types
# of NAME an empty answer, other names NXDOMAIN.  Listens on 127.0.0.1:53.
write_dns_responder() {
	cat >"$1" <<-'EOF'
		import socket, struct, sys
		name, addr = sys.argv[1].lower().rstrip("."), socket.inet_aton(sys.argv[2])
		s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
		s.bind(("127.0.0.1", 53))
		while True:
		    q, peer = s.recvfrom(512)
		    if len(q) < 17:
		        continue
		    i, labels = 12, []
		    while i < len(q) and q[i]:
		        labels.append(q[i + 1:i + 1 + q[i]].decode(errors="replace"))
		        i += 1 + q[i]
		    if i + 5 > len(q):
		        continue
		    qtype = struct.unpack("!H", q[i + 1:i + 3])[0]
		    question = q[12:i + 5]
		    if ".".join(labels).lower() != name:
		        reply = struct.pack("!HHHHH", 0x8183, 1, 0, 0, 0) + question
		    elif qtype == 1:
		        reply = (struct.pack("!HHHHH", 0x8180, 1, 1, 0, 0) + question
		                 + b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + addr)
		    else:
		        reply = struct.pack("!HHHHH", 0x8180, 1, 0, 0, 0) + question
		    s.sendto(q[:2] + reply, peer)
	EOF
}

# libslirp forwards 10.0.2.3 to the nameserver in the /etc/resolv.conf that
# skiff sees, and an unprivileged user can neither change that file nor
# bind port 53.  So skiff runs as root of a user namespace (the user and
# its subordinate IDs mapped) with its own mount and network namespaces:
# there a bind mount makes /etc/resolv.conf say 127.0.0.1, and the
# responder binds that namespace's 127.0.0.1:53.  No query leaves the
# machine.
@test "network: the container resolves a name through 10.0.2.3 from a DNS server on loopback" {
	require_subids
	command -v unshare >/dev/null && command -v ip >/dev/null || skip "no unshare or ip"
	local uid_start uid_count gid_start gid_count script=$SKIFF_TEST_DIR/dns-test.sh
	read -r uid_start uid_count < <(subid_ranges /etc/subuid | head -n 1)
	read -r gid_start gid_count < <(subid_ranges /etc/subgid | head -n 1)
	write_dns_responder "$SKIFF_TEST_DIR/dns.py"
	echo "nameserver 127.0.0.1" >"$SKIFF_TEST_DIR/resolv.conf"
	cat >"$script" <<-'EOF'
		set -eu
		dir=$1 skiff=$2 layout=$3
		skiff() {
			"$skiff" --root "$dir/inner-root" --runroot "$dir/inner-runroot" "$@"
		}
		ip link set lo up
		mount --bind "$dir/resolv.conf" /etc/resolv.conf
		timeout 60 python3 "$dir/dns.py" skiff-test.example 192.0.2.7 &
		responder=$!
		trap 'kill $responder 2>/dev/null || true' EXIT
		id=$(skiff pull -q "oci:$layout:busybox")
		sleep 0.3
		skiff run --rm "$id" nslookup skiff-test.example 10.0.2.3
	EOF
	run timeout 90 unshare --map-user=0 --map-group=0 \
		--map-users="$uid_start,1,$uid_count" --map-groups="$gid_start,1,$gid_count" \
		--mount --net bash "$script" "$SKIFF_TEST_DIR" "$SKIFF" "$BATS_FILE_TMPDIR/ctr-layout"
	assert_equal "$status" 0 "exit status (output: $output)"
	assert_match "$output" "Name:[[:space:]]+skiff-test\.example" "answer"
	assert_match "$output" "Address:? 192\.0\.2\.7" "address"
}
