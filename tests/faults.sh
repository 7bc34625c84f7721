#!/bin/bash
# Faults and load in listen mode (server role, loopback, every loop bounded):
# a dead backend gets each protocol's own error, a slowloris client is cut
# off by --timeout while others are served, 1000 silent connections do not
# stop new sessions, and clients and backends resetting at every stage leave
# the relay serving.  Figures (sessions, faults, peak RSS) go to the log.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require python3 certtool
plan 13
make_pki
SRV=(-s --cert "$PKI/good.pem" --key "$PKI/good.key")

relay() {	# NAME ARGS...: a listening relay; sets rpid and port
	local name=$1
	shift
	start_relay "$name" "${SRV[@]}" "$@"
}

# 1. A dead backend: the client is told in its protocol's words.
dead_port >"$T/dead.port"; dead=$(cat "$T/dead.port")
for pe in 'smtp:^421 ' 'imap:^\* BYE ' 'pop3:^-ERR ' 'http-upgrade:^HTTP/1.1 503 '; do
	proto=${pe%%:*}
	relay "dead-$proto" -p "$proto" listen:127.0.0.1:0 "127.0.0.1:$dead"
	python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
print(s.makefile("rb").readline().decode().strip())' "$port" >"$T/dead.out" 2>&1
	grep -Eq "${pe#*:}" "$T/dead.out"
	ok $? "$proto: backend down: the client gets '$(cat "$T/dead.out")'"
	kill -TERM "$rpid"
	wait_pid "$rpid" 10
done

start_peer echo echo
eport=$port_echo

# 2. Slowloris: one byte every 0.2 s during the SMTP opening; --timeout=1
#    ends it, and meanwhile a normal session completes.
start_peer rec record smtp "$T/rec"
relay slow -p smtp --timeout=1 listen:127.0.0.1:0 "127.0.0.1:$port_rec"
python3 - "$port" >"$T/slow.out" 2>&1 <<'PY' &
import socket, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.recv(100)
sent = 0
try:
    for b in b"EHLO slowly.example.org and on and on\r\n":
        s.send(bytes([b]))
        sent += 1
        time.sleep(0.2)
    print("not cut off")
except OSError:
    print("cut off after", sent, "bytes")
PY
slow=$!
python3 -c '
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb"); f.readline()
s.sendall(b"NOOP\r\n"); print(f.readline().decode().strip())' "$port" >"$T/fast.out" 2>&1
is "$(cat "$T/fast.out")" "250 ok" "slowloris: another session is served meanwhile"
wait "$slow"
grep -q '^cut off after' "$T/slow.out"
ok $? "slowloris: the slow client is cut off ($(cat "$T/slow.out"))"
grep -q 'smtp opening timed out' "$T/slow.err"
ok $? "slowloris: the relay logs the opening timeout"
kill -TERM "$rpid"
wait_pid "$rpid" 10

# 3. 1000 connections that never speak, then a real session.
relay idle --timeout=60 listen:127.0.0.1:0 "127.0.0.1:$eport"
python3 - "$port" "$PKI/ca.pem" >"$T/idle.out" 2>&1 <<'PY'
import resource, socket, ssl, sys
soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
resource.setrlimit(resource.RLIMIT_NOFILE, (min(hard, 4096), hard))
port = int(sys.argv[1])
idle = [socket.create_connection(("127.0.0.1", port), timeout=20) for _ in range(1000)]
ctx = ssl.create_default_context(cafile=sys.argv[2])
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", port), timeout=30),
                    server_hostname="localhost")
t.sendall(b"still served\n")
print(t.recv(100).decode().strip())
for s in idle:
    s.close()
PY
is "$(cat "$T/idle.out")" "still served" "1000 silent connections: a new session is still served"
grep VmHWM "/proc/$rpid/status" | sed 's/^/# relay with 1000 idle connections: /'
kill -TERM "$rpid"
wait_pid "$rpid" 10
is "$?" 0 "and the relay exits 0 on SIGTERM"

# 4. Resets at every stage, from the client and from the backend.
relay resets -p smtp listen:127.0.0.1:0 "127.0.0.1:$port_rec"
python3 - "$port" "$PKI/ca.pem" >"$T/resets.out" 2>&1 <<'PY'
import socket, ssl, struct, sys
port = int(sys.argv[1])
def conn():
    s = socket.create_connection(("127.0.0.1", port), timeout=20)
    return s
def reset(s):
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
n = 0
for stage in range(20):
    s = conn()                      # before the greeting
    reset(s); n += 1
    s = conn(); f = s.makefile("rb"); f.readline()
    s.sendall(b"EHLO x\r\n")        # mid-opening
    reset(s); n += 1
    s = conn(); f = s.makefile("rb"); f.readline()
    s.sendall(b"STARTTLS\r\n"); f.readline()
    s.sendall(b"\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03")  # half a ClientHello
    reset(s); n += 1
    s = conn(); f = s.makefile("rb"); f.readline()
    s.sendall(b"STARTTLS\r\n"); f.readline()
    ctx = ssl.create_default_context(cafile=sys.argv[2])
    t = ctx.wrap_socket(s, server_hostname="localhost")
    t.sendall(b"EHLO x\r\n" * 1000)  # mid-transfer
    reset(t); n += 1
print(n, "resets")
s = conn(); f = s.makefile("rb"); f.readline()
s.sendall(b"NOOP\r\n"); print(f.readline().decode().strip())
PY
is "$(tail -n 1 "$T/resets.out")" "250 ok" "client resets at every stage: the relay still serves"
diag "$(head -n 1 "$T/resets.out") injected"
kill -0 "$rpid"
ok $? "and it is still running"
kill -TERM "$rpid"
wait_pid "$rpid" 10

cat >"$T/rst.py" <<'PY'
import socket, struct
srv = socket.socket(); srv.bind(("127.0.0.1", 0)); srv.listen(64)
print(srv.getsockname()[1], flush=True)
for i in range(1000):
    c, _ = srv.accept()
    if i % 2:
        c.sendall(b"220 about to vanish\r\n")
    c.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    c.close()
PY
bg python3 "$T/rst.py" >"$T/rst.port"
wait_for_line "$T/rst.port" '^[0-9]+$'
relay rst -p smtp listen:127.0.0.1:0 "127.0.0.1:$(cat "$T/rst.port")"
python3 - "$port" >"$T/rst.out" 2>&1 <<'PY'
import socket, sys
got = 0
for i in range(40):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
    s.settimeout(20)
    try:
        while s.recv(4096):
            pass
        got += 1
    except OSError:
        got += 1
print(got, "sessions ended")
PY
is "$(cat "$T/rst.out")" "40 sessions ended" "backend resets (before and after its greeting): every session ends"
kill -0 "$rpid"
ok $? "and the relay is still running"
grep VmHWM "/proc/$rpid/status" | sed 's/^/# relay after 40 backend resets: /'
finish
