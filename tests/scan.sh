#!/bin/bash
# What a TLS scanner says about the default configuration: testssl.sh
# against the server role, with TLS from the first byte and with each
# STARTTLS protocol that both it and the relay know, in front of scripted
# plaintext backends.  An RSA certificate, since it allows the most (static
# RSA, DHE), valid for a year and trusted through --add-ca, so that what is
# left about it only says that it is a test certificate.  No MEDIUM, HIGH,
# CRITICAL or FATAL finding, and the cipher order is the server's (where
# testssl can tell: not with LDAP).  Slow, about a minute a protocol (10.5
# minutes with testssl 3.0.8): not in make check nor .ci/run, but in make
# check-scan.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require testssl python3 certtool

# The relay's protocols that this testssl's --starttls knows.
known=$(testssl --help 2>&1 | sed -n 's/.*protocol is <\([a-z0-9|-]*\)>.*/|\1|/p')
[ -n "$known" ] || bail "cannot read testssl's list of STARTTLS protocols"
protos=none
for p in smtp lmtp pop3 imap ftp xmpp ldap nntp postgres sieve; do
	case $known in
	*"|$p|"*) protos="$protos $p" ;;
	*) diag "$p: this testssl has no --starttls $p" ;;
	esac
done
plan $(($(echo $protos | wc -w) * 2))
make_pki
rsa_cert scan 365

start_peer echo echo

# backend PROTO: bport is a plaintext backend that says what PROTO's server
# says first (greeting, EHLO reply); with none, xmpp, ldap and postgres the
# backend hears nothing before TLS: the echo server.
backend() {
	case $1 in
	none|xmpp|ldap|postgres)
		bport=$port_echo
		return
		;;
	esac
	start_peer "rec_$1" record "$1" "$T/rec.$1"
	bport=$pport
}

# options PROTO: testssl's for PROTO.  It will not take an IP address as
# the XMPP domain.  It cannot do LDAP's StartTLS over its own sockets, only
# through openssl s_client (--ssl-native), which the cipher categories (-s)
# and the server's order (-P) need: the other default checks only.
options() {
	case $1 in
	none) ;;
	xmpp) echo --starttls xmpp --xmpphost localhost ;;
	ldap) echo --starttls ldap --ssl-native -p -f -S -U ;;
	*) echo --starttls "$1" ;;
	esac
}

# verdict JSON: the findings that fail as "# " lines, then one summary line.
verdict() {
	python3 - "$1" <<'PY'
import json, sys

# About the certificate only: a test one has no CRL or OCSP URI.
ALLOWED = {"cert_revocation"}
BAD = ("MEDIUM", "HIGH", "CRITICAL", "FATAL")
order, bad = "not tested", 0
for f in json.load(open(sys.argv[1])):
    if f["id"] == "cipher_order":
        order = f["severity"]
    if f["severity"] in BAD:
        if f["id"] in ALLOWED:
            print("# allowed: %s %s: %s" % (f["severity"], f["id"], f["finding"]))
        else:
            print("# %s %s: %s" % (f["severity"], f["id"], f["finding"]))
            bad += 1
print("cipher order %s, %d findings" % (order, bad))
PY
}

for proto in $protos; do
	backend "$proto"
	start_relay "$proto" -s -p "$proto" --cert "$PKI/scan.pem" \
	    --key "$PKI/scan.key" listen:127.0.0.1:0 "127.0.0.1:$bport"
	start=$SECONDS
	timeout 900 testssl --quiet --color 0 --warnings off --nodns none \
	    --add-ca "$PKI/ca.pem" --jsonfile "$T/$proto.json" \
	    $(options "$proto") "127.0.0.1:$port" >"$T/$proto.out" 2>&1
	diag "$proto: testssl exit status $?, $((SECONDS - start)) s"
	verdict "$T/$proto.json" >"$T/$proto.verdict" 2>&1
	grep '^#' "$T/$proto.verdict"
	order=OK
	[ "$proto" != ldap ] || order="not tested"
	is "$(tail -n 1 "$T/$proto.verdict")" "cipher order $order, 0 findings" \
	    "$proto: no MEDIUM, HIGH, CRITICAL or FATAL finding, cipher order $order"
	# A scan is hundreds of odd handshakes: under ASan, no leak in them.
	kill -TERM "$rpid"
	wait_pid "$rpid" 20
	is "$?" 0 "$proto: the relay exits 0 on SIGTERM"
	grep -A40 'Sanitizer' "$T/$proto.err" | sed 's/^/# /'
done
finish
