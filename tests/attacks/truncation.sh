#!/bin/bash
# Truncation: a TLS peer whose connection ends without close_notify may have
# been cut short by anyone on the path (a FIN costs nothing to forge).  The
# relay reports it (status 1, naming the TLS side) and does not pass it on
# as a clean end: a plain peer on TCP is reset, after what it was already
# due.  The relay's own ends are clean: on SIGTERM every established TLS
# session gets its close_notify, within a bounded wait.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
require python3 certtool
plan 14
make_pki
H=$top_srcdir/tests/helpers

# tls_peer.py server|client PORT CAFILE CERT KEY: a TLS peer that sends
# 64 KiB and then closes the TCP connection without close_notify.  As a
# server it prints its port and serves one connection; as a client it
# connects to PORT.
cat >"$T/tls_peer.py" <<'PY'
import socket, ssl, sys
role, port, cafile, cert, key = sys.argv[1:6]
data = b"x" * 65536
if role == "server":
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    print(srv.getsockname()[1], flush=True)
    c, _ = srv.accept()
    t = ctx.wrap_socket(c, server_side=True)
else:
    ctx = ssl.create_default_context(cafile=cafile)
    t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(port)),
                        timeout=20), server_hostname="localhost")
t.sendall(data)
t.close()  # no unwrap(): no close_notify, only the FIN
PY

# 1. Client role, one session: the server truncates.
bg python3 "$T/tls_peer.py" server 0 - "$PKI/good.pem" "$PKI/good.key" >"$T/srv.port"
wait_for_line "$T/srv.port" '^[0-9]+$' || bail "TLS server did not start"
mkfifo "$T/hold"
exec 7<>"$T/hold"	# the plain input stays open: the TLS side ends first
timeout 30 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$(cat "$T/srv.port")" \
    <"$T/hold" >"$T/c.out" 2>"$T/c.err"
is "$?" 1 "client role: a server that closes without close_notify: status 1"
grep -Eq '^starttls-relay: localhost:[0-9]+ closed the connection without TLS close_notify: possible truncation$' "$T/c.err"
ok $? "and the error names the TLS side and the truncation" || sed 's/^/# /' "$T/c.err"
is "$(stat -c %s "$T/c.out")" 65536 "what arrived before is delivered"
exec 7>&-

# 2. Server role, one session: the client truncates.
rm -f "$T/s.err"
mkfifo "$T/hold2"
exec 7<>"$T/hold2"
"$RELAY" -v -s --cert "$PKI/good.pem" --key "$PKI/good.key" listen:127.0.0.1:0 - \
    <"$T/hold2" >"$T/s.out" 2>"$T/s.err" &
spid=$!
bg_pids="$bg_pids $spid"
wait_for_line "$T/s.err" 'listening on' || bail "relay did not start"
python3 "$T/tls_peer.py" client "$(listen_port "$T/s.err")" "$PKI/ca.pem" - - \
    >/dev/null 2>&1
wait_pid "$spid" 20
is "$?" 1 "server role: a client that closes without close_notify: status 1"
grep -Eq '\] TLS client 127\.0\.0\.1:[0-9]+ closed the connection without TLS close_notify: possible truncation$' "$T/s.err"
ok $? "and the error names the TLS client and the truncation" || sed 's/^/# /' "$T/s.err"
exec 7>&-

# 3. Listen mode, client role: the plain client (a TCP socket) is reset
#    once it has had what arrived before the truncation, instead of a
#    clean end of file.
bg python3 "$T/tls_peer.py" server 0 - "$PKI/good.pem" "$PKI/good.key" >"$T/srv3.port"
wait_for_line "$T/srv3.port" '^[0-9]+$' || bail "TLS server did not start"
start_relay plain --cafile "$PKI/ca.pem" "localhost:$(cat "$T/srv3.port")" \
    listen:127.0.0.1:0
python3 - "$port" >"$T/p.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
got = 0
try:
    while True:
        d = s.recv(65536)
        if not d:
            print("clean end of file after", got, "bytes")
            break
        got += len(d)
except ConnectionResetError:
    print("reset after", got, "bytes")
PY
is "$(cat "$T/p.out")" "reset after 65536 bytes" \
    "listen mode: the plain client gets the data, then a reset, not a clean end"
wait_for_line "$T/plain.err" 'possible truncation' 10
ok $? "and the relay logged the truncation"
kill -TERM "$rpid"
wait_pid "$rpid" 10

# 4. SIGTERM: an established session gets close_notify.  The client reads
#    with suppress_ragged_eofs=False: a bare FIN would be SSLEOFError.
start_peer echo echo
start_relay term -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 "127.0.0.1:$port_echo"
python3 - "$port" "$PKI/ca.pem" >"$T/term.out" 2>&1 <<'PY' &
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])),
                    timeout=20), server_hostname="localhost",
                    suppress_ragged_eofs=False)
t.sendall(b"up\n")
print(t.recv(100).decode().strip(), flush=True)
try:
    print("recv:", t.recv(100))
    t.unwrap()
    print("unwrap: ok")
except ssl.SSLError as e:
    print("error:", type(e).__name__)
PY
cpid=$!
bg_pids="$bg_pids $cpid"
wait_for_line "$T/term.out" '^up$' || bail "the session did not start"
kill -TERM "$rpid"
wait_pid "$rpid" 10
is "$?" 0 "SIGTERM with a session open: status 0"
wait_pid "$cpid" 10
is "$(sed -n 2,3p "$T/term.out" | tr '\n' ' ')" "recv: b'' unwrap: ok " \
    "the TLS client sees close_notify, not a truncation"

# 5. SIGTERM with a TLS client that reads nothing while the backend floods:
#    close_notify cannot get through, and the wait for it is bounded.
mkfifo "$T/flood.in" "$T/stall.in"
python3 "$H/load.py" flood <"$T/flood.in" >"$T/flood.out" &
bg_pids="$bg_pids $!"
exec 7>"$T/flood.in"
wait_for_line "$T/flood.out" '^[0-9]+$' || bail "flood backend did not start"
start_relay stall -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 "127.0.0.1:$(head -n 1 "$T/flood.out")"
python3 "$H/load.py" stall "$port" "$PKI/ca.pem" <"$T/stall.in" >"$T/stall.out" &
bg_pids="$bg_pids $!"
exec 8>"$T/stall.in"
wait_for_line "$T/stall.out" connected 10
wait_for_lines "$T/flood.out" 2 60	# the backend is blocked: queues are full
t0=$(date +%s%N)
kill -TERM "$rpid"
wait_pid "$rpid" 10
rc=$?
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
diag "exit $ms ms after SIGTERM"
is "$rc" 0 "SIGTERM, a client that does not read: status 0"
[ "$ms" -lt 5000 ]
ok $? "within 5 s: the wait for close_notify is bounded (a second)"
exec 7>&- 8>&-

# 6. Server role, listen mode: a truncating client gets the backend reset.
cat >"$T/backend.py" <<'PY'
import socket, sys
srv = socket.socket()
srv.bind(("127.0.0.1", 0))
srv.listen(1)
print(srv.getsockname()[1], flush=True)
c, _ = srv.accept()
got = 0
try:
    while True:
        d = c.recv(65536)
        if not d:
            print("clean end of file after", got, "bytes", flush=True)
            break
        got += len(d)
except ConnectionResetError:
    print("reset after", got, "bytes", flush=True)
PY
bg python3 "$T/backend.py" >"$T/be.out"
wait_for_line "$T/be.out" '^[0-9]+$' || bail "backend did not start"
start_relay trunc -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 "127.0.0.1:$(head -n 1 "$T/be.out")"
python3 "$T/tls_peer.py" client "$port" "$PKI/ca.pem" - - >/dev/null 2>&1
wait_for_lines "$T/be.out" 2 10
is "$(sed -n 2p "$T/be.out")" "reset after 65536 bytes" \
    "server role: the backend gets the data, then a reset, not a clean end"
kill -0 "$rpid"
ok $? "and the relay goes on serving"
kill -TERM "$rpid"
wait_pid "$rpid" 10
is "$?" 0 "and exits 0 on SIGTERM"
finish
