#!/bin/bash
# Who owns what when a handshake fails at its very first step: the client's
# first flight cannot be written (the peer reset the connection before the
# program started).  The handshake fails at once with the write error, not
# at --timeout nor as "the peer closed", and from the loop, once the session
# holds the TLS handle: nothing leaks (LeakSanitizer, valgrind) and nothing
# is used after it is freed.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require python3
plan 4

# reset_fd3.py CMD...: CMD with descriptor 3 a TCP connection that its peer
# has already reset.
cat >"$T/reset_fd3.py" <<'PY'
import os, select, socket, struct, sys
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(1)
a = socket.create_connection(l.getsockname())
b, _ = l.accept()
b.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
b.close()
select.select([a], [], [], 10)  # readable once the RST has arrived
os.dup2(a.fileno(), 3)
os.execvp(sys.argv[1], sys.argv[1:])
PY

timeout 30 python3 "$T/reset_fd3.py" "$RELAY" --insecure --timeout=20 fd:3 \
    </dev/null >/dev/null 2>"$T/err"
is "$?" 5 "first flight unwritable: status 5, at once (not at the 20 s timeout)"
grep -q 'fd:3: TLS handshake failed: write: connection reset by peer$' "$T/err"
ok $? "the error is the write's, not a later read's" || sed 's/^/# /' "$T/err"
! grep -Eq 'Sanitizer|runtime error' "$T/err"
ok $? "no sanitizer report" || sed 's/^/# /' "$T/err"

# Again in a loop: a leak or a stale pointer gets more chances to show.
bad=0
for i in $(seq 10); do
	timeout 30 python3 "$T/reset_fd3.py" "$RELAY" --insecure fd:3 </dev/null \
	    >/dev/null 2>"$T/err.$i"
	rc=$?
	if [ $rc -ne 5 ] || grep -Eq 'Sanitizer|runtime error' "$T/err.$i"; then
		bad=$((bad + 1))
		diag "run $i: status $rc"
		sed 's/^/# /' "$T/err.$i"
	fi
done
is "$bad" 0 "10 more runs: status 5 each time, no sanitizer report"
finish
