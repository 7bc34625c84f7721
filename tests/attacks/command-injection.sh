#!/bin/bash
# Command injection (server role; CVE-2011-0411 class): a client, or a man
# in the middle, pipelines a command behind the switch command, in the same
# segment or in a segment of its own before the ClientHello.  The relay ends
# the session with status 4 and logs why; the command never reaches the
# backend and is never answered.  Every line protocol; the binary ones and
# XMPP have theirs in tests/proto-bin.sh and tests/proto-ftpxmpp.sh.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
require python3 certtool
plan 48
make_pki

# inject PROTO GREETING-LINES SWITCH REPLY-LINES FORGED: $T/answer holds what
# the client was told after the switch reply.
inject() {
	local proto=$1 greet=$2 switch=$3 rlines=$4 forged=$5 how=$6 rec rport lport
	rec=$T/rec.$proto.$how
	: >"$rec"
	start_peer rec record "$proto" "$rec"
	rport=$port_rec
	rm -f "$T/relay.err"
	"$RELAY" -v -s --cert "$PKI/good.pem" --key "$PKI/good.key" -p "$proto" listen:127.0.0.1:0 \
	    "127.0.0.1:$rport" 2>"$T/relay.err" &
	bg_pids="$bg_pids $!"
	wait_for_line "$T/relay.err" 'listening on' || bail "relay did not start"
	lport=$(listen_port "$T/relay.err")
	python3 - "$lport" "$greet" "$switch" "$rlines" "$forged" "$how" \
	    >"$T/answer" 2>&1 <<'PY'
import socket, sys
port, greet, switch, rlines, forged, how = sys.argv[1:]
esc = lambda s: s.encode().decode("unicode_escape").encode()
def reply():	# rlines lines, or HTTP's header block ("0")
    if rlines == "0":
        while f.readline() not in (b"\r\n", b""):
            pass
    for _ in range(int(rlines)):
        f.readline()
s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
f = s.makefile("rb")
for _ in range(int(greet)):
    f.readline()
if how == "same":
    s.sendall(esc(switch) + esc(forged))
else:
    s.sendall(esc(switch))
    reply()
    s.sendall(esc(forged))
# Whatever comes back after the switch reply: it must be nothing.
if how == "same":
    reply()
sys.stdout.buffer.write(f.read())
PY
	wait_for_line "$T/relay.err" 'injection' 10
	ok $? "$proto, $how segment: the session ended, the log names the injection"
	grep -q 'status 4\|injection' "$T/relay.err" && ! grep -q FORGED "$rec"
	ok $? "$proto, $how segment: the injected command never reached the backend"
	[ ! -s "$T/answer" ]
	ok $? "$proto, $how segment: and nothing answered it" ||
	    sed 's/^/# /' "$T/answer"
	kill "$!" 2>/dev/null
}
for how in same separate; do
	inject smtp 1 'STARTTLS\r\n' 1 'RSET FORGED\r\n' "$how"
	inject imap 1 'a STARTTLS\r\n' 1 'b LOGIN FORGED y\r\n' "$how"
	inject pop3 1 'STLS\r\n' 1 'USER FORGED\r\n' "$how"
	inject http-upgrade 0 \
	    'OPTIONS * HTTP/1.1\r\nHost: x\r\nUpgrade: TLS/1.0\r\nConnection: Upgrade\r\n\r\n' \
	    0 'GET /FORGED HTTP/1.1\r\n\r\n' "$how"
	inject lmtp 1 'STARTTLS\r\n' 1 'RSET FORGED\r\n' "$how"
	inject nntp 1 'STARTTLS\r\n' 1 'GROUP FORGED\r\n' "$how"
	# ManageSieve greets with its capabilities, STARTTLS added, then OK.
	inject sieve 3 'STARTTLS\r\n' 1 'AUTHENTICATE "PLAIN" "FORGED"\r\n' "$how"
	inject ftp 1 'AUTH TLS\r\n' 1 'USER FORGED\r\n' "$how"
done
finish
