#!/usr/bin/env bats
# The relay of published TCP ports (net/relay.c): the monitor listens on
# the host port and connects to the container through a socket made in the
# container's network namespace, copying both ways in its poll loop.
# Whole streams both ways (checked by sha256 on both sides), a client's
# half-close, connection churn without leaked descriptors, a port nothing
# listens on, and an idle monitor after use.  The busybox fixture comes
# from a local registry; each test has its own store.

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

BLOB_SIZE=67108864 # 64 MiB

# The monitor refills its pool of 32 sockets when fewer than 8 are left
# (NET_NETNS_POOL, NET_RELAY_POOL_LOW): how far its descriptor count may
# move with the pool alone.
POOL_SLACK=25

# A container named relay serving, on host ports skiff chooses:
#   5000: the sha256 of what a client sends, once the client stops sending
#   5001: the 64 MiB file /data/blob, bind-mounted from the host
#   5002: nothing (no process listens)
# Sets PORT_SUM, PORT_BLOB, PORT_NONE and BLOB.
start_relay_ctr() {
	BLOB=$SKIFF_TEST_DIR/data/blob
	mkdir -p "$SKIFF_TEST_DIR/data"
	head -c "$BLOB_SIZE" /dev/urandom >"$BLOB"
	run_skiff run -d --name relay -p 5000 -p 5001 -p 5002 \
		-v "$SKIFF_TEST_DIR/data:/data:ro" "$CTR_IMAGE" sh -c \
		'nc -ll -p 5000 -e sh -c "sha256sum" & nc -ll -p 5001 -e cat /data/blob & wait'
	PORT_SUM=$(ctr_host_port relay 5000/tcp) || die "no host port for 5000/tcp"
	PORT_BLOB=$(ctr_host_port relay 5001/tcp) || die "no host port for 5001/tcp"
	PORT_NONE=$(ctr_host_port relay 5002/tcp) || die "no host port for 5002/tcp"
	relay_listens() {
		local out
		out=$(skiff_cmd exec relay netstat -tln 2>/dev/null) || return 1
		[[ $out == *":5000 "* && $out == *":5001 "* ]]
	}
	wait_until 100 relay_listens
}

# send.py PORT FILE: send FILE, stop sending (shutdown), print the reply.
write_clients() {
	cat >"$SKIFF_TEST_DIR/send.py" <<-'EOF'
		import socket, sys
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
		with open(sys.argv[2], "rb") as f:
		    while True:
		        b = f.read(1 << 20)
		        if not b:
		            break
		        s.sendall(b)
		s.shutdown(socket.SHUT_WR)
		reply = b""
		while True:
		    b = s.recv(65536)
		    if not b:
		        break
		    reply += b
		print(reply.decode(errors="replace").split(" ")[0])
	EOF
	cat >"$SKIFF_TEST_DIR/recv.py" <<-'EOF'
		import hashlib, socket, sys
		s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=60)
		h = hashlib.sha256()
		n = 0
		while True:
		    b = s.recv(1 << 20)
		    if not b:
		        break
		    h.update(b)
		    n += len(b)
		print(n, h.hexdigest())
	EOF
}

@test "relay: 64 MiB each way through published ports, checked by sha256" {
	pull_ctr_image
	start_relay_ctr
	write_clients
	local want
	want=$(sha256sum "$BLOB") || die "sha256sum of the blob"
	want=${want%% *}
	# Host to container: the container hashes what it read until our
	# shutdown, and its answer still comes back (a half-close).
	run python3 "$SKIFF_TEST_DIR/send.py" "$PORT_SUM" "$BLOB"
	assert_equal "$output" "$want" "sha256 the container read"
	# Container to host.
	run python3 "$SKIFF_TEST_DIR/recv.py" "$PORT_BLOB"
	assert_equal "$output" "$BLOB_SIZE $want" "size and sha256 the host read"
}

@test "relay: a client that stops sending still gets the reply" {
	pull_ctr_image
	start_relay_ctr
	write_clients
	printf 'abc' >"$SKIFF_TEST_DIR/small"
	run python3 "$SKIFF_TEST_DIR/send.py" "$PORT_SUM" "$SKIFF_TEST_DIR/small"
	assert_equal "$output" "$(printf abc | sha256sum | cut -d' ' -f1)" "reply after shutdown"
}

@test "relay: 2000 sequential connections leave the monitor's descriptors as they were" {
	pull_ctr_image
	start_relay_ctr
	local monitor fds_before fds_after
	monitor=$(ctr_monitor_pid relay)
	fds_before=$(proc_fd_count "$monitor")
	run python3 - "$PORT_SUM" <<-'EOF'
		import hashlib, socket, sys
		port = int(sys.argv[1])
		for i in range(2000):
		    s = socket.create_connection(("127.0.0.1", port), timeout=30)
		    msg = b"%d" % i
		    s.sendall(msg)
		    s.shutdown(socket.SHUT_WR)
		    reply = b""
		    while True:
		        b = s.recv(4096)
		        if not b:
		            break
		        reply += b
		    s.close()
		    if not reply.startswith(hashlib.sha256(msg).hexdigest().encode()):
		        print("connection %d: %r" % (i, reply[:100]))
		        sys.exit(1)
		print("ok")
	EOF
	assert_equal "$output" "ok" "2000 connections"
	# Every connection's two sockets are closed; only the pool's level
	# may differ (a leak per connection would show as thousands).
	fds_settled() {
		fds_after=$(proc_fd_count "$monitor")
		((fds_after <= fds_before + POOL_SLACK && fds_after >= fds_before - POOL_SLACK))
	}
	wait_until 100 fds_settled
	run_skiff inspect --format '{{.State.Status}}' relay
	assert_equal "$output" "running" "status"
}

@test "relay: the socket pool is refilled for a container running as another user" {
	pull_ctr_image
	# A container that changed to a non-root user is not dumpable: its
	# /proc/PID/ns files refuse the monitor, which refills the pool (32
	# sockets) through the namespaces it opened at setup.
	run_skiff run -d --name relayuser --user 1000:1000 -p 5000 "$CTR_IMAGE" \
		nc -ll -p 5000 -e sh -c "sha256sum"
	local port
	port=$(ctr_host_port relayuser 5000/tcp) || die "no host port for 5000/tcp"
	user_listens() {
		skiff_cmd exec relayuser netstat -tln 2>/dev/null | grep -q ':5000 '
	}
	wait_until 100 user_listens
	run python3 - "$port" <<-'EOF'
		import hashlib, socket, sys
		for i in range(100):
		    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
		    s.sendall(b"x")
		    s.shutdown(socket.SHUT_WR)
		    reply = b""
		    while True:
		        b = s.recv(4096)
		        if not b:
		            break
		        reply += b
		    s.close()
		    if not reply.startswith(hashlib.sha256(b"x").hexdigest().encode()):
		        print("connection %d: %r" % (i, reply))
		        sys.exit(1)
		print("ok")
	EOF
	assert_equal "$output" "ok" "100 connections, three refills"
}

@test "relay: a port nothing listens on closes the client; the monitor serves on" {
	pull_ctr_image
	start_relay_ctr
	write_clients
	local monitor
	monitor=$(ctr_monitor_pid relay)
	run python3 - "$PORT_NONE" <<-'EOF'
		import socket, sys
		for i in range(20):
		    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=30)
		    try:
		        b = s.recv(10)
		    except ConnectionResetError:
		        b = b""
		    if b:
		        print("got %r" % b)
		        sys.exit(1)
		    s.close()
		print("closed")
	EOF
	assert_equal "$output" "closed" "a connection to an unserved port"
	pid_alive "$monitor" || die "the monitor died"
	printf 'x' >"$SKIFF_TEST_DIR/small"
	run python3 "$SKIFF_TEST_DIR/send.py" "$PORT_SUM" "$SKIFF_TEST_DIR/small"
	assert_equal "$output" "$(printf x | sha256sum | cut -d' ' -f1)" "a served port after"
}

@test "relay: the monitor is idle again after relaying" {
	pull_ctr_image
	start_relay_ctr
	write_clients
	local monitor before after
	monitor=$(ctr_monitor_pid relay)
	run python3 "$SKIFF_TEST_DIR/recv.py" "$PORT_BLOB"
	assert_match "$output" "^$BLOB_SIZE " "a whole blob"
	# A connection left open but quiet costs nothing either.
	exec 7<>"/dev/tcp/127.0.0.1/$PORT_SUM"
	sleep 1
	before=$(proc_cpu_ticks "$monitor")
	sleep 5
	after=$(proc_cpu_ticks "$monitor")
	exec 7>&-
	((after - before <= 2)) || die "monitor used $((after - before)) ticks in 5 s"
}
