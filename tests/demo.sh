#!/bin/bash
# make demo (contrib/demo.sh): a mail client, the client role, the server
# role and a plaintext backend on loopback.  The mail must cross in TLS and
# reach the backend whole, and the demo must say so.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
plan 5
timeout 60 sh "$top_srcdir/contrib/demo.sh" >"$T/demo.out" 2>&1
is "$?" 0 "the demo exits 0"
grep -q 'C: STARTTLS' "$T/demo.out" && grep -q '250 STARTTLS' "$T/demo.out"
ok $? "the client role asked for STARTTLS, which the server role offered"
[ "$(grep -c 'TLS established' "$T/demo.out")" = 2 ]
ok $? "both roles logged the TLS session"
sed -n '/what the plaintext backend received/,$p' "$T/demo.out" >"$T/backend"
grep -q '^This line crossed the loopback inside TLS\.$' "$T/backend" &&
    grep -q '^QUIT$' "$T/backend" && ! grep -q STARTTLS "$T/backend"
ok $? "the backend got the whole mail, and never saw STARTTLS"
grep -q '^250 queued$' "$T/demo.out"
ok $? "the mail client saw the backend accept it" || sed 's/^/# /' "$T/demo.out"
finish
