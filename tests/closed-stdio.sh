#!/bin/bash
# Started with descriptor 0, 1 or 2 closed (<&-, >&-, 2>&-): the program
# never aborts (libuv asserts when one of its own descriptors lands on 0-2).
# A plain side on a closed standard input or output is a usage error
# (status 2); anything else works, SIGTERM in listen mode included.
# (Not for valgrind: its own files take the descriptors closed for it.)
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require python3 certtool
plan 14
make_pki
SRV=(-s --cert "$PKI/good.pem" --key "$PKI/good.key")

start_peer echo echo
eport=$port_echo

# closing N CMD...: CMD with descriptor N closed (run as "closing ... &",
# the background job is CMD itself).
closing() {
	local n=$1
	shift
	case $n in
	0) exec "$@" <&- ;;
	1) exec "$@" >&- ;;
	2) exec "$@" 2>&- ;;
	esac
}

# 1. One session, plain side "-": descriptors 0 and 1 are refused (status 2,
#    with a message); with 2 closed the session works.
for n in 0 1 2; do
	rm -f "$T/s.err"
	printf hello | "$RELAY" -v "${SRV[@]}" listen:127.0.0.1:0 - \
	    >/dev/null 2>"$T/s.err" &
	spid=$!
	bg_pids="$bg_pids $spid"
	wait_for_line "$T/s.err" 'listening on' || bail "server did not start"
	port=$(listen_port "$T/s.err")
	: >"$T/c.out"
	: >"$T/c.err"
	case $n in
	0) timeout 20 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$port" <&- \
	    >"$T/c.out" 2>"$T/c.err" ;;
	1) timeout 20 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$port" \
	    </dev/null >&- 2>"$T/c.err" ;;
	2) timeout 20 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$port" \
	    </dev/null >"$T/c.out" 2>&- ;;
	esac
	rc=$?
	case $n in
	0) is "$rc" 2 "stdin closed, plain side -: status 2"
	   grep -q '^starttls-relay: -: standard input is closed$' "$T/c.err"
	   ok $? "and the message says so" ;;
	1) is "$rc" 2 "stdout closed, plain side -: status 2"
	   grep -q '^starttls-relay: -: standard output is closed$' "$T/c.err"
	   ok $? "and the message says so" ;;
	2) is "$rc/$(cat "$T/c.out")" 0/hello \
	       "stderr closed: the session works, status 0" ;;
	esac
	kill "$spid" 2>/dev/null
	wait "$spid" 2>/dev/null
done

# 2. fd:0 when descriptor 0 was closed: not open (status 3), not /dev/null.
timeout 20 "$RELAY" --insecure fd:0 127.0.0.1:1 <&- 2>"$T/fd.err"
is "$?" 3 "fd:0 with descriptor 0 closed: status 3"
grep -q 'fd:0: descriptor 0 is not open' "$T/fd.err"
ok $? "and the message says so"

# 3. Listen mode with each descriptor closed: a session is served and
#    SIGTERM ends the program with status 0.
for n in 0 1 2; do
	port=$(free_port)
	closing "$n" "$RELAY" "${SRV[@]}" "listen:127.0.0.1:$port" \
	    "127.0.0.1:$eport" 2>/dev/null &
	rpid=$!
	bg_pids="$bg_pids $rpid"
	wait_for_port "$port" || bail "relay did not start"
	python3 - "$port" "$PKI/ca.pem" >"$T/l.out" 2>&1 <<'PY'
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])),
    timeout=20), server_hostname="localhost")
t.sendall(b"echo me\n")
print(t.recv(100).decode().strip())
t.unwrap()
PY
	is "$(cat "$T/l.out")" "echo me" "listen mode, descriptor $n closed: a session is served"
	kill -TERM "$rpid"
	wait_pid "$rpid" 10
	is "$?" 0 "listen mode, descriptor $n closed: SIGTERM, status 0"
done

# 4. All three closed, and SIGTERM while a session is open.
port=$(free_port)
"$RELAY" "${SRV[@]}" "listen:127.0.0.1:$port" "127.0.0.1:$eport" <&- >&- 2>&- &
rpid=$!
bg_pids="$bg_pids $rpid"
wait_for_port "$port" || bail "relay did not start"
mkfifo "$T/hold"
python3 - "$port" "$PKI/ca.pem" <"$T/hold" >"$T/a.out" 2>&1 <<'PY' &
import socket, ssl, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
t = ctx.wrap_socket(socket.create_connection(("127.0.0.1", int(sys.argv[1])),
    timeout=20), server_hostname="localhost")
t.sendall(b"up\n")
print(t.recv(100).decode().strip(), flush=True)
sys.stdin.read()
PY
cpid=$!
bg_pids="$bg_pids $cpid"
exec 7>"$T/hold"
wait_for_line "$T/a.out" '^up$'
kill -TERM "$rpid"
wait_pid "$rpid" 10
is "$?" 0 "descriptors 0-2 all closed, a session open: SIGTERM, status 0"
exec 7>&-
wait "$cpid"
finish
