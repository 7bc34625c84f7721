#!/bin/bash
# Saying what really happened when a TLS client turns our certificate down
# (server role): the alert it sent, by GnuTLS's name, even when OpenSSL
# sends it in the clear where GnuTLS expects it encrypted ("Decryption has
# failed" before); a client that leaves right after the handshake, before
# any data, is a failed session (status 5), not a success; and every such
# message names the client's own address, not "peer".
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require openssl gnutls-cli python3 certtool
plan 12
make_pki

# server [RELAY-ARGS...]: a one-shot server-role relay whose plain side is a
# FIFO held open (so that only the TLS side can end the session); sets spid
# and port.
server() {
	rm -f "$T/s.err"
	[ -p "$T/hold" ] || mkfifo "$T/hold"
	exec 7<>"$T/hold"
	"$RELAY" -v -s --cert "$PKI/good.pem" --key "$PKI/good.key" "$@" \
	    listen:127.0.0.1:0 - <"$T/hold" >/dev/null 2>"$T/s.err" 7>&- &
	spid=$!
	bg_pids="$bg_pids $spid"
	wait_for_line "$T/s.err" 'listening on' || bail "relay did not start"
	port=$(listen_port "$T/s.err")
}
# The failure line names the TLS client by the address it came from, the
# same as the session label: "[1 127.0.0.1:P] TLS client 127.0.0.1:P: ...".
names_client() {
	grep -Eq '^starttls-relay: \[1 (127\.0\.0\.1:[0-9]+)\] TLS client \1[: ]' "$T/s.err"
}

# 1. openssl s_client rejects our certificate (a CA that does not know it).
server
echo | timeout 20 openssl s_client -verify_return_error -CAfile "$PKI/self.pem" \
    -servername localhost -connect "127.0.0.1:$port" >/dev/null 2>&1
wait_pid "$spid" 20
is "$?" 5 "s_client rejects our certificate: status 5"
grep -q "TLS handshake failed: the peer rejected our certificate: alert 'CA is unknown'$" "$T/s.err"
ok $? "the message names the alert s_client sent" || sed 's/^/# /' "$T/s.err"
! grep -q 'Decryption has failed' "$T/s.err"
ok $? "not 'Decryption has failed'"
names_client
ok $? "and names the client's address" || sed 's/^/# /' "$T/s.err"
exec 7>&-

# 2. Python's ssl (OpenSSL too) rejects it the same way.
server
python3 - "$port" "$PKI/self.pem" >/dev/null 2>&1 <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
try:
    ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])),
                    timeout=20), server_hostname="localhost")
except ssl.SSLError:
    pass
PY
wait_pid "$spid" 20
is "$?" 5 "python rejects our certificate: status 5"
grep -q "the peer rejected our certificate: alert 'CA is unknown'$" "$T/s.err"
ok $? "the message names the alert" || sed 's/^/# /' "$T/s.err"
exec 7>&-

# 3. gnutls-cli leaves right after the handshake (close_notify, no data).
server
timeout 20 gnutls-cli --x509cafile "$PKI/ca.pem" -p "$port" localhost \
    </dev/null >/dev/null 2>&1
exec 7>&-	# our plain side ends too: the session is over
wait_pid "$spid" 20
is "$?" 5 "gnutls-cli leaves before any data: status 5, not 0"
grep -q 'left right after the handshake, before any data: did it reject our certificate?$' "$T/s.err"
ok $? "and the message says so" || sed 's/^/# /' "$T/s.err"
names_client
ok $? "and names the client's address" || sed 's/^/# /' "$T/s.err"

# 4. Python closes the connection right after the handshake (no close_notify).
server
python3 - "$port" "$PKI/ca.pem" <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])),
                timeout=20), server_hostname="localhost").close()
PY
wait_pid "$spid" 20
is "$?" 5 "a client that closes right after the handshake: status 5"
grep -q 'left right after the handshake, before any data, without TLS close_notify: did it reject our certificate?$' "$T/s.err"
ok $? "and the message says so" || sed 's/^/# /' "$T/s.err"
exec 7>&-

# 5. A plain client that resets mid-session is named too (client role,
#    listening plain side).
printf 'hello\n' | "$RELAY" -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 - -v >/dev/null 2>"$T/ts.err" &
bg_pids="$bg_pids $!"
wait_for_line "$T/ts.err" 'listening on' || bail "relay did not start"
start_relay pc --cafile "$PKI/ca.pem" "localhost:$(listen_port "$T/ts.err")" \
    listen:127.0.0.1:0
python3 - "$port" <<'PY'
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.recv(100)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
PY
wait_for_line "$T/pc.err" 'plain client 127\.0\.0\.1:[0-9]+' 10
grep -Eq '^starttls-relay: \[1 (127\.0\.0\.1:[0-9]+)\] .*plain client \1: connection reset by peer$' "$T/pc.err"
ok $? "a plain client's reset names the plain client's address" || sed 's/^/# /' "$T/pc.err"
finish
