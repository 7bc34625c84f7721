#!/bin/bash
# Response injection (client role; CVE-2011-0411 class, "NO STARTTLS"
# study): a server, or a man in the middle, appends a forged response to
# the switch reply, in the same segment or in one of its own before the
# ServerHello.  The relay ends with status 4, says why, and nothing forged
# reaches the plain side.
: "${top_srcdir:=$(cd "$(dirname "$0")/../.." && pwd)}"
. "$top_srcdir/tests/lib.sh"
require python3 certtool
plan 8
make_pki

for proto in smtp imap pop3 http-upgrade; do
	for mode in inject inject-later; do
		start_peer fs starttls "$proto" "$mode" "$PKI/good.pem" "$PKI/good.key"
		printf 'x\r\n' | timeout 30 "$RELAY" -p "$proto" --cafile "$PKI/ca.pem" \
		    "localhost:$port_fs" >"$T/out" 2>"$T/err"
		rc=$?
		if [ $rc -eq 4 ] && [ "$(wc -l <"$T/err")" -eq 1 ] &&
		    grep -q 'response injection' "$T/err" &&
		    ! grep -q INJECTED "$T/out"; then
			ok 0 "$proto $mode: status 4, one line naming the injection, nothing forged relayed"
		else
			ok 1 "$proto $mode: status 4 (got $rc), one line naming the injection, nothing forged relayed"
			sed 's/^/# /' "$T/err"
		fi
	done
done
finish
