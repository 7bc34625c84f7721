#!/bin/bash
# The program against itself: server role (one-shot listen, plain side
# stdio) and client role, 12 MiB each way, over TCP, IPv6 and Unix sockets,
# and half-close in each direction.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require certtool python3
plan 25
make_pki
random_file "$T/a" 12
random_file "$T/b" 12
: >"$T/empty"

# pair NAME SRV_IN CLI_IN SERVER-ARGS... -- CLIENT-ARGS... (PORT is replaced)
pair() {
	local name=$1 sin=$2 cin=$3 sargs=() cargs=() port spid
	shift 3
	while [ "$1" != -- ]; do sargs+=("$1"); shift; done
	shift
	"$RELAY" -v "${sargs[@]}" <"$sin" >"$T/$name.sout" 2>"$T/$name.serr" &
	spid=$!
	bg_pids="$bg_pids $spid"
	if ! wait_for_line "$T/$name.serr" 'listening on' 10; then
		cat "$T/$name.serr" | sed 's/^/# /'
		crc=99 src=99
		return
	fi
	port=$(listen_port "$T/$name.serr")
	cargs=("${@//PORT/$port}")
	timeout 60 "$RELAY" "${cargs[@]}" <"$cin" >"$T/$name.cout" 2>"$T/$name.cerr"
	crc=$?
	wait_pid "$spid" 60
	src=$?
	[ $crc -eq 0 ] || sed 's/^/# client: /' "$T/$name.cerr"
	[ $src -eq 0 ] || sed 's/^/# server: /' "$T/$name.serr"
}

pin=$(pin_of "$PKI/good.pem")

pair ca "$T/a" "$T/b" -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 - -- --cafile "$PKI/ca.pem" localhost:PORT
is "$crc/$src" 0/0 "CA-verified pair: both exit 0"
is "$(sha "$T/ca.cout")" "$(sha "$T/a")" "server -> client: 12 MiB intact"
is "$(sha "$T/ca.sout")" "$(sha "$T/b")" "client -> server: 12 MiB intact"

# --self-signed: the pin it prints lets a client in; another pin does not.
for want in right wrong; do
	rm -f "$T/ss.serr"
	"$RELAY" -v -s --self-signed listen:127.0.0.1:0 - <"$T/a" \
	    >"$T/ss.sout" 2>"$T/ss.serr" &
	spid=$!
	bg_pids="$bg_pids $spid"
	wait_for_line "$T/ss.serr" 'listening on'
	port=$(listen_port "$T/ss.serr")
	spin=$(sed -n 's/.*--pin=\(sha256:[^ ]*\).*/\1/p' "$T/ss.serr")
	[ $want = right ] || spin=$pin
	timeout 60 "$RELAY" --insecure --pin="$spin" "127.0.0.1:$port" \
	    <"$T/b" >"$T/ss.cout" 2>"$T/ss.cerr"
	crc=$?
	wait_pid "$spid" 60
	src=$?
	if [ $want = right ]; then
		is "$crc/$src/$(sha "$T/ss.cout")" "0/0/$(sha "$T/a")" \
		    "--self-signed with its printed pin: exit 0, data intact"
	else
		is "$crc/$src" 6/5 \
		    "another key's pin: client status 6, server status 5"
		grep -q 'pin mismatch' "$T/ss.cerr"
		ok $? "the client's error names the pin mismatch"
	fi
done

pair ip "$T/a" "$T/b" -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 - -- --cafile "$PKI/ca.pem" --pin="$pin" 127.0.0.1:PORT
is "$crc/$src" 0/0 "IP address checked against the certificate, with a pin"
is "$(sha "$T/ip.cout")/$(sha "$T/ip.sout")" "$(sha "$T/a")/$(sha "$T/b")" \
    "data intact both ways"

pair unix "$T/a" "$T/b" -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    "unix-listen:$T/sock" - -- --cafile "$PKI/ca.pem" --servername localhost \
    "unix:$T/sock"
is "$crc/$src" 0/0 "over a Unix socket: both exit 0"
is "$(sha "$T/unix.cout")/$(sha "$T/unix.sout")" "$(sha "$T/a")/$(sha "$T/b")" \
    "Unix socket: data intact both ways"
[ ! -e "$T/sock" ]
ok $? "the Unix socket is removed at exit"

if python3 -c 'import socket; s=socket.socket(socket.AF_INET6); s.bind(("::1",0))' 2>/dev/null; then
	pair v6 "$T/a" "$T/b" -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
	    'listen:[::1]:0' - -- --cafile "$PKI/ca.pem" --servername localhost \
	    '[::1]:PORT'
	is "$crc/$src" 0/0 "over IPv6 [::1]: both exit 0"
	is "$(sha "$T/v6.cout")/$(sha "$T/v6.sout")" \
	    "$(sha "$T/a")/$(sha "$T/b")" "IPv6: data intact both ways"
else
	skip "no IPv6 loopback"
	skip "no IPv6 loopback"
fi

# Half-close: the client's input ends at once, the server keeps sending.
pair hc1 "$T/a" "$T/empty" -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 - -- --cafile "$PKI/ca.pem" localhost:PORT
is "$crc/$src" 0/0 "client EOF first: both exit 0"
is "$(sha "$T/hc1.cout")" "$(sha "$T/a")" \
    "client EOF first: the server's 12 MiB still arrive"
is "$(stat -c %s "$T/hc1.sout")" 0 "client EOF first: the server's plain side got EOF, no data"

# Half-close the other way: the server's input ends at once.
pair hc2 "$T/empty" "$T/b" -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 - -- --cafile "$PKI/ca.pem" localhost:PORT
is "$crc/$src" 0/0 "server EOF first: both exit 0"
is "$(sha "$T/hc2.sout")" "$(sha "$T/b")" \
    "server EOF first: the client's 12 MiB still arrive"

# The plain side as a pipe on both ends.
"$RELAY" -v -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 - < <(cat "$T/a") > >(cat >"$T/p.sout") 2>"$T/p.serr" &
spid=$!
bg_pids="$bg_pids $spid"
wait_for_line "$T/p.serr" 'listening on'
port=$(listen_port "$T/p.serr")
cat "$T/b" | timeout 60 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$port" | cat >"$T/p.cout"
crc=${PIPESTATUS[1]}
wait_pid "$spid" 60
is "$crc/$?" 0/0 "pipes on both plain sides: both exit 0"
is "$(sha "$T/p.cout")" "$(sha "$T/a")" "pipes: server -> client intact"
wait_for_size "$T/p.sout" 12582912 5
is "$(sha "$T/p.sout")" "$(sha "$T/b")" "pipes: client -> server intact"

# Half-close seen through pipes: once the server has ended, the client's
# stdout (a FIFO) must reach EOF while its stdin (a FIFO) is still open, and
# that input must still get through afterwards.  (libuv leaves descriptors
# 0-2 open when it closes their handles; the relay closes stdout itself.)
mkfifo "$T/hp.in" "$T/hp.out"
(cat "$T/hp.out" >"$T/hp.got"; echo eof >"$T/hp.eof") &
bg_pids="$bg_pids $!"
"$RELAY" -v -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 - <"$T/a" >"$T/hp.sout" 2>"$T/hp.serr" &
spid=$!
bg_pids="$bg_pids $spid"
wait_for_line "$T/hp.serr" 'listening on'
port=$(listen_port "$T/hp.serr")
"$RELAY" --cafile "$PKI/ca.pem" "localhost:$port" <"$T/hp.in" \
    >"$T/hp.out" 2>"$T/hp.cerr" &
cpid=$!
bg_pids="$bg_pids $cpid"
exec 7>"$T/hp.in"
wait_for_line "$T/hp.eof" eof 60 && kill -0 "$cpid"
ok $? "pipes: the client's stdout ends while its stdin is still open"
is "$(sha "$T/hp.got")" "$(sha "$T/a")" "pipes: after the server's 12 MiB"
head -c 1048576 "$T/b" >"$T/b1"
cat "$T/b1" >&7
exec 7>&-
wait_pid "$cpid" 60
crc=$?
wait_pid "$spid" 60
is "$crc/$?/$(sha "$T/hp.sout")" "0/0/$(sha "$T/b1")" \
    "pipes: then the client's input still reaches the server; both exit 0"

# fd:N: an inherited connected socket as TLS-ADDRESS.
"$RELAY" -v -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    listen:127.0.0.1:0 - <"$T/a" >"$T/fd.sout" 2>"$T/fd.serr" &
spid=$!
bg_pids="$bg_pids $spid"
wait_for_line "$T/fd.serr" 'listening on'
port=$(listen_port "$T/fd.serr")
timeout 60 "$RELAY" --cafile "$PKI/ca.pem" --servername localhost fd:3 \
    3<>"/dev/tcp/127.0.0.1/$port" <"$T/b" >"$T/fd.cout" 2>"$T/fd.cerr"
crc=$?
wait_pid "$spid" 60
is "$crc/$?/$(sha "$T/fd.cout")" "0/0/$(sha "$T/a")" \
    "fd:3 as TLS-ADDRESS: both exit 0, data intact"
finish
