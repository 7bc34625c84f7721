#!/bin/bash
# Tampering with the clear-text phase must not carry into TLS.
# Client role: the server's pre-TLS capabilities (which a man in the middle
# can forge) never reach the plain client, which learns them again inside
# TLS; the plain client's early words are held and go inside TLS, never in
# clear.  Server role: state-changing commands sent in clear before the
# switch (SMTP MAIL FROM, IMAP SELECT, POP3 USER) are refused and never
# reach the backend; the session inside TLS still works.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
require python3 certtool
plan 21
make_pki

for proto in smtp imap pop3; do
	clear=$T/clear.$proto
	: >"$clear"
	start_peer fs starttls "$proto" ok "$PKI/good.pem" "$PKI/good.key" \
	    "$clear"
	# The early line goes at once; stdin stays open until it came back.
	{ printf 'EARLY-SECRET\r\n'; wait_for_line "$T/out" 'EARLY-SECRET' 20; } |
	    timeout 30 "$RELAY" -p "$proto" --cafile "$PKI/ca.pem" \
	    "localhost:$port_fs" >"$T/out" 2>"$T/err"
	is "$?" 0 "$proto client: the session exits 0" || sed 's/^/# /' "$T/err"
	! grep -q 'X-STALE-CAP' "$T/out" && ! grep -q 'fake' "$T/out" &&
	    grep -q 'localhost' "$T/out"
	ok $? "$proto client: the plain side got our greeting; nothing the server said before TLS"
	grep -q 'tls-ok' "$T/out" && grep -q 'EARLY-SECRET' "$T/out" &&
	    ! grep -q 'EARLY-SECRET' "$clear"
	ok $? "$proto client: early plain input went inside TLS, never in clear" ||
	    sed 's/^/# clear: /' "$clear"
	rm -f "$T/out"
done

# tamper PROTO PRE-TLS-COMMAND SWITCH IN-TLS-COMMAND: a client that tries to
# set up state in clear, then switches; prints what it was told.
tamper() {
	local proto=$1 rec=$T/rec.$1 rport lport
	: >"$rec"
	start_peer rec record "$proto" "$rec"
	rport=$port_rec
	rm -f "$T/relay.err"
	"$RELAY" -v -s --cert "$PKI/good.pem" --key "$PKI/good.key" -p "$proto" \
	    listen:127.0.0.1:0 "127.0.0.1:$rport" 2>"$T/relay.err" &
	bg_pids="$bg_pids $!"
	wait_for_line "$T/relay.err" 'listening on' || bail "relay did not start"
	lport=$(listen_port "$T/relay.err")
	python3 - "$lport" "$PKI/ca.pem" "$2" "$3" "$4" >"$T/told" 2>&1 <<'PY'
import socket, ssl, sys
port, ca, pre, switch, intls = sys.argv[1:]
s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
f = s.makefile("rb")
print("greeting:", f.readline().decode().strip())
s.sendall(pre.encode() + b"\r\n")
print("pre-tls:", f.readline().decode().strip())
s.sendall(switch.encode() + b"\r\n")
print("switch:", f.readline().decode().strip())
ctx = ssl.create_default_context(cafile=ca)
t = ctx.wrap_socket(s, server_hostname="localhost")
t.sendall(intls.encode() + b"\r\n")
print("in-tls:", t.makefile("rb").readline().decode().strip())
PY
	is "$(sed -n 's/^pre-tls: //p' "$T/told")" "$5" \
	    "$proto server: '$2' in clear is refused" || sed 's/^/# /' "$T/told"
	! grep -q 'FORGED' "$rec" && grep -q 'IN-TLS' "$rec"
	ok $? "$proto server: it never reached the backend; the command inside TLS did" ||
	    sed 's/^/# backend: /' "$rec"
	grep -q '^in-tls: .' "$T/told"
	ok $? "$proto server: the backend answered inside TLS"
}
tamper smtp 'MAIL FROM:<FORGED@pre.tls>' STARTTLS 'MAIL FROM:<IN-TLS@example.test>' \
    '530 5.7.0 Must issue a STARTTLS command first'
tamper imap 'a SELECT FORGED' 'b STARTTLS' 'c SELECT IN-TLS' \
    'a NO [PRIVACYREQUIRED] Must issue STARTTLS first'
tamper pop3 'USER FORGED' STLS 'USER IN-TLS' '-ERR [AUTH] Must issue STLS first'
# An untagged "tag" would let the backend's untagged lines end the command.
tamper imap '* NOOP FORGED' 'b STARTTLS' 'c SELECT IN-TLS' \
    '* BAD Invalid tag or missing command'
finish
