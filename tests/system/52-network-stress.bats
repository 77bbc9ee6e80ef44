#!/usr/bin/env bats
# Published ports under connection churn.  A published TCP port is relayed
# by the monitor (net/relay.c), which connects to the container from the
# container's own namespace with a source port the kernel picks there, so
# the container's server sees the relay's connections, not the host
# client's source ports: a host that reuses a source port while the
# container, which closed first, still holds the old connection in
# TIME_WAIT must get through all the same (with slirp's forwarding, which
# kept the client's port, the new SYN fell inside the old connection's
# sequence space and the TIME_WAIT refused it).  Clients that reset a connection while the container still
# sends: the relay closes both sides and serves on (a send() that raised
# SIGPIPE killed the monitor once).  The busybox fixture comes from a local
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

UPLOAD=4194304 # bytes per connection: with slirp's forwarding, past its SYN's next number

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
# long they take is not checked (tests do not depend on time).
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

# 10 reuses of one source port, each meeting its predecessor's TIME_WAIT
# where the container keeps one: all must get through, none reset.
reuse_one_port() {
	run python3 "$SKIFF_TEST_DIR/upload.py" "$SINK_PORT" "$UPLOAD" 10
	assert_equal "${lines[1]-}" "ok" "10 reuses of one source port"
	REUSED_PORT=${lines[0]}
}

@test "network stress: a reused host source port gets through the container's TIME_WAITs" {
	pull_ctr_image
	start_sink
	write_upload_client
	wait_until 100 sink_listens
	reuse_one_port
	# The container did keep its closed connections in TIME_WAIT: they are
	# the relay's, from the container's own address, so the host client's
	# reused port met none of them.
	run_skiff exec sink netstat -tn
	assert_match "$output" "10\.0\.2\.100:[0-9]+ +TIME_WAIT" "the container's TIME_WAITs"
	assert_not_contains "$output" ":$REUSED_PORT " "the host client's port in the container"
	run_skiff inspect --format '{{.State.Status}}' sink
	assert_equal "$output" "running" "status"
}

@test "network stress: connections interleaved over four host source ports complete" {
	pull_ctr_image
	start_sink
	write_upload_client
	wait_until 100 sink_listens
	run python3 - "$SINK_PORT" <<-'EOF'
		# Four client sockets bound to four fixed source ports, reconnected
		# in turn 20 times: with the client's port carried into the
		# container, every connection after the first four would meet its
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
	# the connection while the relay still writes the container's stream
	# to it: the relay must close both sides, not die of SIGPIPE.
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
