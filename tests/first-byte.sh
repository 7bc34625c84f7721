#!/bin/bash
# The same fault, the same status, whichever call notices it (connect(), a
# write or a read).  A server that speaks first (a greeting), or a backend,
# counts as reached once it has sent a byte: one that accepts and resets (or
# closes) before that is status 3, "reset the connection before sending
# anything".  Where we speak first, what the server does then answers us:
# the opening's failure (4), or with --proto=none the handshake's (5).
# 30 runs each must agree.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require python3 certtool
plan 10
make_pki
N=30

# rst.py GREETING CLOSE: accepts for ever; sends GREETING (if any), then
# resets (CLOSE=reset) or closes (CLOSE=close) each connection.
cat >"$T/rst.py" <<'PY'
import socket, struct, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(64)
print(srv.getsockname()[1], flush=True)
greeting, how = sys.argv[1].encode(), sys.argv[2]
while True:
    c, _ = srv.accept()
    if greeting:
        c.sendall(greeting + b"\r\n")
    if how == "reset":
        c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
PY
rst_server() {	# NAME GREETING CLOSE: sets its port in port_NAME
	bg python3 "$T/rst.py" "$2" "$3" >"$T/$1.port"
	wait_for_line "$T/$1.port" '^[0-9]+$' || bail "$1 server did not start"
	eval "port_$1=$(cat "$T/$1.port")"
}
rst_server silent "" reset
rst_server greets "220 about to vanish" reset
rst_server closes "" close

# runs NAME ARGS...: N runs of the relay; "COUNT STATUS" lines in $T/NAME,
# the distinct error lines in $T/NAME.err.
runs() {
	local name=$1 i
	shift
	: >"$T/$name.errs"
	for i in $(seq $N); do
		timeout 30 "$RELAY" -q "$@" </dev/null >/dev/null 2>>"$T/$name.errs"
		echo $?
	done | sort | uniq -c | awk '{ print $1, $2 }' >"$T/$name"
	# --insecure is said whatever -q: not the fault's message.
	grep -v 'warning: --insecure' "$T/$name.errs" |
	    sed 's/127\.0\.0\.1:[0-9]*/127.0.0.1:PORT/g' | sort -u >"$T/$name.err"
}

runs smtp -p smtp --insecure "127.0.0.1:$port_silent"
is "$(cat "$T/smtp")" "$N 3" "-p smtp, reset before the greeting: status 3 in every run"
is "$(cat "$T/smtp.err")" "starttls-relay: 127.0.0.1:PORT reset the connection before sending anything" \
    "and always the same message"

runs none --insecure "127.0.0.1:$port_silent"
is "$(cat "$T/none")" "$N 5" "-p none, reset before the ServerHello: status 5 in every run"
is "$(cat "$T/none.err")" "starttls-relay: 127.0.0.1:PORT reset the connection during the TLS handshake, before sending anything" \
    "and always the same message"

runs closes --insecure "127.0.0.1:$port_closes"
is "$(cat "$T/closes")" "$N 5" "-p none, closed before the ServerHello: status 5 in every run"
# Our ClientHello reaching a socket it has closed draws a reset from its
# kernel: either word is the truth.
! grep -Evq '^starttls-relay: 127.0.0.1:PORT (closed|reset) the connection during the TLS handshake, before sending anything$' "$T/closes.err"
ok $? "and always that message" || sed 's/^/# /' "$T/closes.err"

runs http -p http-upgrade --insecure "127.0.0.1:$port_silent"
is "$(cat "$T/http")" "$N 4" "-p http-upgrade (we speak first), reset at once: status 4 in every run"

# After its first byte, a reset is the opening's failure: status 4.
runs greets -p smtp --insecure "127.0.0.1:$port_greets"
is "$(cat "$T/greets")" "$N 4" "-p smtp, reset right after the greeting: status 4 in every run"

# Server role, one session on an inherited socket (oneshot.py BACKEND
# RELAY ARGS...: prints the status and the first word the client got): a
# backend that resets
# before its greeting fails like a dead one (status 3), and the client gets
# the protocol's "unavailable" (421) every time.
cat >"$T/oneshot.py" <<'PY'
import socket, subprocess, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
client = socket.create_connection(l.getsockname(), timeout=20)
conn, _ = l.accept()
relay = subprocess.Popen(sys.argv[2:] + ["fd:%d" % conn.fileno(), sys.argv[1]],
                         pass_fds=[conn.fileno()], stdin=subprocess.DEVNULL,
                         stderr=subprocess.DEVNULL)
conn.close()
line = client.makefile("rb").readline().decode().strip()
print(relay.wait(timeout=30), line.split(" ")[0] if line else "nothing")
PY
for i in $(seq $N); do
	timeout 60 python3 "$T/oneshot.py" "127.0.0.1:$port_silent" "$RELAY" -s \
	    -p smtp --cert "$PKI/good.pem" --key "$PKI/good.key"
done | sort | uniq -c | awk '{ print $1, $2, $3 }' >"$T/backend"
is "$(cat "$T/backend")" "$N 3 421" "server role, backend reset before its greeting: status 3 and 421, every run"
for i in $(seq 5); do
	timeout 60 python3 "$T/oneshot.py" "127.0.0.1:$port_closes" "$RELAY" -s \
	    -p smtp --cert "$PKI/good.pem" --key "$PKI/good.key"
done | sort | uniq -c | awk '{ print $1, $2, $3 }' >"$T/backend-close"
is "$(cat "$T/backend-close")" "5 3 421" "server role, backend closed before its greeting: status 3 and 421"
finish
