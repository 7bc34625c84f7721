#!/bin/bash
# Client role against openssl s_server.  s_server ends the whole connection
# when its stdin ends or when it reads close_notify, so it cannot show a
# half-closed connection carrying data the other way for long; each case
# below keeps the other direction open exactly as long as s_server allows.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require openssl certtool python3
plan 10
make_pki
random_file "$T/a" 12
random_file "$T/b" 12
size=$((12 * 1024 * 1024))

# feed FILE OUT [LOG]: (once LOG says TLS is up) FILE, then hold the pipe
# open until OUT has $size bytes.  s_server must not find its stdin
# readable before the handshake: it then reads stdin first and, after
# sending that one record, blocks reading the connection.
feed() {
	[ -z "${3:-}" ] || wait_for_line "$3" 'TLS established' 30
	cat "$1"
	wait_for_size "$2" $size 60 >/dev/null
}

# s_server ARGS...: one connection, on a fresh port; sets spid and port.
s_server() {
	port=$(free_port)
	openssl s_server -accept "127.0.0.1:$port" -cert "$PKI/good.pem" \
	    -key "$PKI/good.key" -naccept 1 "$@" <&0 &
	spid=$!
	bg_pids="$bg_pids $spid"
	wait_for_port "$port" || bail "s_server did not start"
}

# 1. Bulk both ways: each side's input stays open until it has received all.
s_server -quiet < <(feed "$T/a" "$T/sout" "$T/cerr") >"$T/sout" 2>"$T/serr"
feed "$T/b" "$T/cout" | timeout 90 "$RELAY" -v --cafile "$PKI/ca.pem" \
    "localhost:$port" >"$T/cout" 2>"$T/cerr"
crc=${PIPESTATUS[1]}
wait_pid "$spid" 30
is "$crc/$?" 0/0 "bulk both ways: relay and s_server exit 0"
is "$(sha "$T/cout")" "$(sha "$T/a")" "s_server -> relay: 12 MiB intact"
is "$(sha "$T/sout")" "$(sha "$T/b")" "relay -> s_server: 12 MiB intact"

# 2. s_server ends first (stdin EOF: close_notify, then it closes); the
#    relay's input is still open: it delivers everything and exits 0.
s_server -quiet < <(wait_for_line "$T/cerr2" 'TLS established' 30; cat "$T/a") \
    >"$T/sout2" 2>"$T/serr2"
feed /dev/null "$T/cout2" | timeout 90 "$RELAY" -v --cafile "$PKI/ca.pem" \
    "localhost:$port" >"$T/cout2" 2>"$T/cerr2"
crc=${PIPESTATUS[1]}
wait_pid "$spid" 30
is "$crc/$?" 0/0 "s_server ends first: both exit 0"
is "$(sha "$T/cout2")" "$(sha "$T/a")" "s_server ends first: all 12 MiB arrive"
grep -q 'closed without TLS close_notify' "$T/cerr2"
ok $((! $?)) "s_server's end came with close_notify"

# 3. The relay ends first: a request, then EOF at once (close_notify right
#    behind it); s_server -www still answers and the answer arrives whole.
s_server -www >"$T/sout3" 2>"$T/serr3"
printf 'GET / HTTP/1.0\r\n\r\n' | timeout 30 "$RELAY" --cafile "$PKI/ca.pem" \
    "localhost:$port" >"$T/cout3" 2>"$T/cerr3"
crc=$?
wait_pid "$spid" 30
is "$crc" 0 "relay ends first: exit 0"
grep -q '^HTTP/1.0 200' "$T/cout3"
ok $? "relay ends first: s_server's answer starts"
grep -qi '</html>' "$T/cout3"
ok $? "relay ends first: s_server's answer is complete"

# 4. TLS 1.2 only.
s_server -quiet -tls1_2 < <(wait_for_line "$T/cerr4" 'TLS established' 30;
    cat "$T/a") >/dev/null 2>&1
feed /dev/null "$T/cout4" | timeout 90 "$RELAY" -v --cafile "$PKI/ca.pem" \
    "localhost:$port" >"$T/cout4" 2>"$T/cerr4"
crc=${PIPESTATUS[1]}
wait_pid "$spid" 30
is "$crc/$(sha "$T/cout4")/$(grep -c 'TLS established: (TLS1.2)' "$T/cerr4")" "0/$(sha "$T/a")/1" \
    "TLS 1.2 s_server: exit 0, data intact, -v says TLS1.2"
finish
