#!/bin/bash
# The client role on a listening TLS side: the TLS servers connect to us,
# so the address names ourselves, not them.  Without --servername, --pin or
# --insecure any server with any certificate the CA signed would do: that
# is refused; the bind address is never taken for the expected name, nor
# for the protocol's host name.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
require certtool python3
plan 11
make_pki

# 1. No name to verify: a usage error, before listening.
for a in listen:127.0.0.1:0 listen:0 "unix-listen:$T/s"; do
	timeout 10 "$RELAY" --cafile "$PKI/ca.pem" "$a" - </dev/null \
	    >/dev/null 2>"$T/u.err"
	rc=$?
	is "$rc/$(grep -c -- '--servername, --pin or --insecure' "$T/u.err")" 2/1 \
	    "client role on $a without a name: status 2, the message says what to give"
done

# served CERT CLIENT-ARGS...: a listening client-role relay (-v), and a
# server-role relay with CERT that connects to it and sends "hello".
served() {
	local cert=$1
	shift
	rm -f "$T/c.err"
	timeout 30 "$RELAY" -v --cafile "$PKI/ca.pem" "$@" listen:127.0.0.1:0 - \
	    </dev/null >"$T/c.out" 2>"$T/c.err" &
	local cpid=$!
	bg_pids="$bg_pids $cpid"
	wait_for_line "$T/c.err" 'listening on' || bail "relay did not start"
	printf hello | timeout 30 "$RELAY" -s --cert "$PKI/$cert.pem" \
	    --key "$PKI/$cert.key" "127.0.0.1:$(listen_port "$T/c.err")" - \
	    >/dev/null 2>"$T/s.err"
	wait_pid "$cpid" 30
	crc=$?
}

# 2. --servername is checked against the server that connected.
served wrong --servername localhost
is "$crc" 6 "a CA-signed server for another name is refused (status 6)"
grep -q 'expected name localhost' "$T/c.err"
ok $? "and the error names the name expected" || sed 's/^/# /' "$T/c.err"
served good --servername localhost
is "$crc/$(cat "$T/c.out")" 0/hello "the server named by --servername is accepted"
grep -q 'verified yes' "$T/c.err"
ok $? "and -v says it was verified"

# 3. With a pin and no --servername, the bind address 127.0.0.1 is not the
#    expected name: the pinned server's certificate does not name it.
served wrong --pin "$(pin_of "$PKI/wrong.pem")"
is "$crc/$(cat "$T/c.out")" 0/hello "--pin alone: the bind address is not checked as a name" ||
    sed 's/^/# /' "$T/c.err"

# 4. Nor is it the protocol's host name: the HTTP Host header of a
#    listening client role, the XMPP stream's 'from' of a listening server
#    role whose client names no host.
rm -f "$T/h.err"
timeout 30 "$RELAY" -v --insecure -p http-upgrade listen:127.0.0.1:0 - </dev/null \
    >/dev/null 2>"$T/h.err" &
hpid=$!
bg_pids="$bg_pids $hpid"
wait_for_line "$T/h.err" 'listening on' || bail "relay did not start"
python3 - "$(listen_port "$T/h.err")" >"$T/h.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
for line in iter(f.readline, b"\r\n"):
    if line.lower().startswith(b"host:"):
        print(line.decode().strip())
PY
is "$(cat "$T/h.out")" "Host: localhost" "http-upgrade, listening: Host is not the bind address"
kill "$hpid" 2>/dev/null
wait "$hpid" 2>/dev/null

start_peer echo echo
start_relay xmpp -s -p xmpp --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 "127.0.0.1:$port_echo"
python3 - "$port" >"$T/x.out" 2>&1 <<'PY'
import re, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"<?xml version='1.0'?><stream:stream xmlns='jabber:client' "
          b"xmlns:stream='http://etherx.jabber.org/streams' version='1.0'>")
got = b""
while b"<stream:features" not in got:
    d = s.recv(4096)
    if not d:
        break
    got += d
m = re.search(rb"from='([^']*)'", got)
print(m.group(1).decode() if m else "no from")
PY
is "$(cat "$T/x.out")" localhost "xmpp server role, listening: 'from' is not the bind address"
kill -TERM "$rpid"
wait_pid "$rpid" 10
is "$?" 0 "and the relay exits 0 on SIGTERM"
finish
