#!/bin/bash
# RFC 6125 name checks (client role): wildcards match one whole left-most
# label only, and an IP address only the certificate's IP addresses.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
require certtool python3
plan 8
make_pki
mkcert() {	# NAME TEMPLATE-LINES...
	local n=$1
	shift
	printf '%s\n' "$@" tls_www_server signing_key 'expiration_days = 30' \
	    >"$PKI/$n.tmpl"
	certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
	    --outfile "$PKI/$n.key" >/dev/null 2>&1
	certtool --generate-certificate --load-privkey "$PKI/$n.key" \
	    --load-ca-certificate "$PKI/ca.pem" --load-ca-privkey "$PKI/ca.key" \
	    --template "$PKI/$n.tmpl" --outfile "$PKI/$n.pem" >/dev/null 2>&1 ||
	    bail "certtool failed for $n"
}
mkcert wild 'cn = "wildcard"' 'dns_name = "*.example.test"'
mkcert tld 'cn = "tld wildcard"' 'dns_name = "*.test"'
mkcert dnsip 'cn = "127.0.0.1"' 'dns_name = "127.0.0.1"'

check() {	# CERT NAME WANT DESCRIPTION
	rm -f "$T/s.err"
	printf 'x' | "$RELAY" -v -s --cert "$PKI/$1.pem" --key "$PKI/$1.key" \
	    listen:127.0.0.1:0 - >/dev/null 2>"$T/s.err" &
	local spid=$!
	bg_pids="$bg_pids $spid"
	wait_for_line "$T/s.err" 'listening on' || bail "relay did not start"
	timeout 30 "$RELAY" --cafile "$PKI/ca.pem" --servername "$2" \
	    "127.0.0.1:$(listen_port "$T/s.err")" </dev/null >/dev/null 2>"$T/c.err"
	local rc=$?
	wait_pid "$spid" 30 >/dev/null
	is "$rc" "$3" "$4" || sed 's/^/# /' "$T/c.err"
}
check wild a.example.test 0 "*.example.test matches a.example.test"
check wild A.Example.TEST 0 "... whatever the case"
check wild a.b.example.test 6 "... not a.b.example.test (one label only)"
check wild example.test 6 "... not example.test itself"
check wild aexample.test 6 "... not aexample.test"
check tld a.test 6 "*.test (a wildcard over a top-level domain) matches nothing"
check dnsip 127.0.0.1 6 "a DNS name '127.0.0.1' does not vouch for the IP address"
check good 127.0.0.1 0 "an IP address SAN does"
finish
