#!/usr/bin/env bats
# Published ports under connection churn.  libslirp connects to the
# container from the gateway with the host client's source port, and
# hosts reuse source ports while the container's server, which closed
# first, still holds the old connection in TIME_WAIT: the new SYN, whose
# sequence number grows slowly in slirp (64000 per connection), falls
# inside the old connection's sequence space after an upload and the
# TIME_WAIT refuses it; slirp alone retries only after its 6-second initial
# RTO.  skiff turns TIME_WAIT off in the container's namespace (net/tap.c)
# and, where it is on again, sends a refused SYN again at once
# (net_synretry, net/guard.c).  Clients that reset a connection while slirp
# still writes to it: that send() raised SIGPIPE in the monitor
# (net/slirp.c).  The busybox fixture comes from a local registry; each
# test has its own store.

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

UPLOAD=4194304 # bytes per connection: 65 of slirp's per-connection steps

# A container named sink whose port 5000, published on a host port skiff
# chooses, reads exactly $UPLOAD bytes per connection and then closes first,
# so that the container keeps each connection in TIME_WAIT; sets SINK_PORT.
start_sink() {
	run_skiff run -d --name sink -p 5000 "$CTR_IMAGE" \
		nc -ll -p 5000 -e sh -c "head -c $UPLOAD >/dev/null"
	SINK_PORT=$(ctr_host_port sink 5000/tcp) || die "skiff port sink 5000/tcp: no host port"
}

# upload.py PORT BYTES REUSES: one upload from a source port the kernel
# picks, then REUSES uploads from that same port, each waiting for the
# container to close.  Prints the port, then "ok", or what failed.  How
# long they take is not checked (tests do not depend on time): without the
# fixes each reuse waits 6 s or more for slirp's retransmission, which
# bench/network.sh shows; the retry's logic has its unit tests
# (tests/unit/test_net_guard.c).
write_upload_client() {
	cat >"$SKIFF_TEST_DIR/upload.py" <<-'EOF'
		import socket, sys
		port, size, reuses = (int(a) for a in sys.argv[1:4])

		def upload(src):
		    s = socket.socket()
		    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		    s.bind(("127.0.0.1", src))
		    s.settimeout(60)
		    s.connect(("127.0.0.1", port))
		    used = s.getsockname()[1]
		    buf = bytes(1 << 16)
		    left = size
		    while left > 0:
		        left -= s.send(buf[:min(left, len(buf))])
		    # The container closes once it has read everything.
		    while s.recv(65536):
		        pass
		    s.close()
		    return used

		src = upload(0)
		print(src)
		for i in range(reuses):
		    try:
		        upload(src)
		    except OSError as e:
		        print("reuse %d of port %d: %s" % (i + 1, src, e))
		        sys.exit(1)
		print("ok")
	EOF
}

# Whether nc listens in the container yet.
sink_listens() {
	skiff_cmd exec sink netstat -tln 2>/dev/null | grep -q ':5000 '
}

# Turn TIME_WAIT back on in the network namespace of container NAME (the
# kernel's default limit), from the host through its namespaces.
enable_time_wait() {
	local pid
	pid=$(skiff_cmd inspect --format '{{.State.Pid}}' "$1") || die "no pid for $1"
	local ns=(-n)
	[[ $(id -u) -eq 0 ]] || ns=(-U -n --preserve-credentials)
	nsenter -t "$pid" "${ns[@]}" sh -c 'echo 131072 >/proc/sys/net/ipv4/tcp_max_tw_buckets' ||
		die "cannot set tcp_max_tw_buckets in $1"
}

# 10 reuses of one source port, each meeting its predecessor's TIME_WAIT
# where the container keeps one: all must get through, none reset.
reuse_one_port() {
	run python3 "$SKIFF_TEST_DIR/upload.py" "$SINK_PORT" "$UPLOAD" 10
	assert_equal "${lines[1]-}" "ok" "10 reuses of one source port"
	REUSED_PORT=${lines[0]}
}

@test "network stress: the container keeps no TIME_WAIT; a reused source port gets through" {
	pull_ctr_image
	start_sink
	write_upload_client
	wait_until 100 sink_listens
	run_skiff exec sink cat /proc/sys/net/ipv4/tcp_max_tw_buckets
	assert_equal "$output" "0" "tcp_max_tw_buckets in the container"
	reuse_one_port
	run_skiff exec sink netstat -tn
	assert_not_contains "$output" "TIME_WAIT" "the container's connections"
}

@test "network stress: with TIME_WAIT on, SYNs that meet a TIME_WAIT still get through" {
	pull_ctr_image
	start_sink
	enable_time_wait sink
	write_upload_client
	wait_until 100 sink_listens
	reuse_one_port
	# The collision really happened: the container holds the last
	# connection from that port in TIME_WAIT.
	run_skiff exec sink netstat -tn
	assert_match "$output" "10\.0\.2\.2:$REUSED_PORT +TIME_WAIT" "TIME_WAIT for port $REUSED_PORT"
	run_skiff inspect --format '{{.State.Status}}' sink
	assert_equal "$output" "running" "status"
}

@test "network stress: with TIME_WAIT on, connections interleaved over four source ports complete" {
	pull_ctr_image
	start_sink
	enable_time_wait sink
	write_upload_client
	wait_until 100 sink_listens
	run python3 - "$SINK_PORT" <<-'EOF'
		# Four client sockets bound to four fixed source ports, reconnected
		# in turn 20 times: every connection after the first four meets its
		# predecessor in TIME_WAIT, with others in between.
		import socket, sys
		port = int(sys.argv[1])
		size = 4194304
		srcs = []
		for _ in range(4):
		    s = socket.socket()
		    s.bind(("127.0.0.1", 0))
		    srcs.append(s.getsockname()[1])
		    s.close()
		for i in range(20):
		    s = socket.socket()
		    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
		    s.bind(("127.0.0.1", srcs[i % 4]))
		    s.settimeout(60)
		    s.connect(("127.0.0.1", port))
		    s.sendall(bytes(size))
		    while s.recv(65536):
		        pass
		    s.close()
		print("ok")
	EOF
	assert_equal "$output" "ok" "20 connections over 4 source ports"
}

@test "network stress: clients that reset a stream mid-way leave the monitor serving" {
	pull_ctr_image
	local monitor
	# Every connection to 5001 gets zeros until it goes away.
	run_skiff run -d --name source -p 5001 "$CTR_IMAGE" nc -ll -p 5001 -e cat /dev/zero
	local port
	port=$(ctr_host_port source 5001/tcp) || die "skiff port source 5001/tcp: no host port"
	monitor=$(ctr_monitor_pid source)
	source_listens() {
		skiff_cmd exec source netstat -tln 2>/dev/null | grep -q ':5001 '
	}
	wait_until 100 source_listens
	# Each client reads a little and closes with unread data, which resets
	# the connection while slirp still writes the container's stream to
	# it: slirp's next send() raised SIGPIPE, which killed the monitor.
	run python3 - "$port" <<-'EOF'
		import socket, sys
		port = int(sys.argv[1])
		for i in range(50):
		    s = socket.create_connection(("127.0.0.1", port), timeout=30)
		    got = 0
		    while got < 262144:
		        b = s.recv(65536)
		        if not b:
		            print("connection %d: closed after %d bytes" % (i, got))
		            sys.exit(1)
		        got += len(b)
		    s.close()
		print("ok")
	EOF
	assert_equal "$output" "ok" "50 reset streams"
	# The network still serves: a whole 8 MiB comes through.
	run python3 - "$port" <<-'EOF'
		import socket, sys
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
		got = 0
		while got < 8 << 20:
		    b = s.recv(1 << 20)
		    if not b:
		        break
		    got += len(b)
		print("ok" if got >= 8 << 20 else "stream ended after %d bytes" % got)
	EOF
	assert_equal "$output" "ok" "a stream after the resets"
	[[ $(awk '{ print $3 }' "/proc/$monitor/stat") != Z ]] || die "the monitor died"
}
