#!/bin/bash
# inetd mode: tcpserver (ucspi-tcp) accepts and runs one relay per
# connection, TLS side on the socket it hands over (as "-" and as fd:0),
# plain side a TCP echo backend.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require tcpserver python3 certtool
plan 6
make_pki
random_file "$T/b" 12

start_peer echo echo
echo_port=$port_echo

for tlsaddr in - fd:0; do
	port=$(free_port)
	bg tcpserver -q -R -H -c 20 127.0.0.1 "$port" \
	    "$RELAY" -q -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
	    "$tlsaddr" "127.0.0.1:$echo_port"
	wait_for_port "$port" || bail "tcpserver did not start"
	timeout 60 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$port" \
	    <"$T/b" >"$T/out" 2>"$T/err"
	is "$?" 0 "TLS-ADDRESS $tlsaddr under tcpserver: the client exits 0"
	is "$(sha "$T/out")" "$(sha "$T/b")" \
	    "TLS-ADDRESS $tlsaddr: 12 MiB echoed through the backend intact"
	# Two clients at once: tcpserver runs two relays.
	head -c 100000 "$T/b" >"$T/small"
	timeout 30 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$port" \
	    <"$T/small" >"$T/o1" 2>/dev/null &
	c1=$!
	timeout 30 "$RELAY" --cafile "$PKI/ca.pem" "localhost:$port" \
	    <"$T/small" >"$T/o2" 2>/dev/null
	r2=$?
	wait "$c1"
	is "$?/$r2/$(sha "$T/o1")/$(sha "$T/o2")" \
	    "0/0/$(sha "$T/small")/$(sha "$T/small")" \
	    "TLS-ADDRESS $tlsaddr: two concurrent connections"
done
finish
