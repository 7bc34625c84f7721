#!/bin/bash
# STARTTLS in the client role against real servers started here from
# private configs (Dovecot for IMAP and POP3, Exim for SMTP) and an RFC 2817
# server, in stdio and listen plain-side modes, and a real server without
# STARTTLS.  The hostile servers are in tests/attacks/.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/servers.sh"
require dovecot exim4 swaks python3 certtool
plan 33
make_pki
start_dovecot
start_exim exim
good_exim=$exim_port
start_exim plainexim no
plain_exim=$exim_port
CA=(--cafile "$PKI/ca.pem")

# client PROTO PORT UNTIL INPUT...: one stdio session; the input lines go
# inside TLS, and stdin stays open until the output matches UNTIL (servers
# stop answering once they read close_notify).
client() {
	local proto=$1 port=$2 until=$3
	shift 3
	printf '%s\r\n' "$@" >"$T/in"
	rm -f "$T/out"
	{ cat "$T/in"; wait_for_line "$T/out" "$until" 20; } |
	    timeout 30 "$RELAY" -v -p "$proto" "${CA[@]}" "localhost:$port" \
	    >"$T/out" 2>"$T/err"
	rc=${PIPESTATUS[1]}
	tr -d '\r' <"$T/out" >"$T/out.txt"
}

# IMAP: log in inside TLS and fetch the message.
client imap "$imap_port" '^d OK' 'a LOGIN test secret' 'b SELECT INBOX' \
    'c FETCH 1 BODY[]' 'd LOGOUT'
is "$rc" 0 "imap: the session exits 0"
is "$(head -n 1 "$T/out.txt")" '* OK localhost ready' \
    "imap: the plain side gets our greeting, nothing of Dovecot's clear-text one"
grep -q 'the body of the test message' "$T/out.txt"
ok $? "imap: the message was fetched through the relay"
grep -q 'imap-login: Info: Login: user=<test>.*, TLS' "$DOVECOT_LOG"
ok $? "imap: Dovecot's log shows the login came over TLS"
grep -q '^starttls-relay: C: a1 STARTTLS$' "$T/err" && grep -q '^starttls-relay: S: a1 OK' "$T/err"
ok $? "imap: -v shows the clear-text transcript"

# POP3.
client pop3 "$pop3_port" 'Logging out' 'USER test' 'PASS secret' 'RETR 1' 'QUIT'
is "$rc" 0 "pop3: the session exits 0"
is "$(head -n 1 "$T/out.txt")" '+OK localhost ready' \
    "pop3: the plain side gets our greeting (no APOP challenge from clear text)"
grep -q 'the body of the test message' "$T/out.txt"
ok $? "pop3: the message was retrieved through the relay"
[ "$(grep -c 'pop3-login: Info: Login: user=<test>.*, TLS' "$DOVECOT_LOG")" -ge 1 ]
ok $? "pop3: Dovecot's log shows the login came over TLS"

# SMTP: a message through the relay, delivered.
client smtp "$good_exim" '^221' 'EHLO client.example' 'MAIL FROM:<a@example.org>' \
    'RCPT TO:<user@test.example>' 'DATA' 'Subject: via stdio' '' \
    'sent through the relay over stdio' '.' 'QUIT'
is "$rc" 0 "smtp: the session exits 0"
is "$(head -n 1 "$T/out.txt")" '220 localhost ESMTP' \
    "smtp: the plain side gets our greeting"
wait_for_line "$T/exim/inbox" 'sent through the relay over stdio' 10
ok $? "smtp: the message was delivered"
grep -q '<= a@example.org .* X=TLS1' "$T/exim/log/mainlog"
ok $? "smtp: Exim's log shows it came over TLS"
grep -q 'C: EHLO localhost' "$T/err"
ok $? "smtp: EHLO uses the default name localhost"

# Listen mode: plaintext clients on the plain side.
"$RELAY" -v -p smtp "${CA[@]}" --ehlo relay.example "localhost:$good_exim" \
    listen:127.0.0.1:0 2>"$T/lsmtp.err" &
lpid=$!
bg_pids="$bg_pids $lpid"
wait_for_line "$T/lsmtp.err" 'listening on' || bail "relay did not listen"
lport=$(listen_port "$T/lsmtp.err")
timeout 30 swaks --server 127.0.0.1 --port "$lport" --from a@example.org \
    --to user@test.example --header 'Subject: via swaks' \
    --body 'plaintext swaks through the relay' >"$T/swaks.out" 2>&1
is "$?" 0 "smtp listen mode: swaks (plaintext) sends a message"
wait_for_line "$T/exim/inbox" 'plaintext swaks through the relay' 10
ok $? "smtp listen mode: the message was delivered"
[ "$(grep -c '<= a@example.org .* X=TLS1' "$T/exim/log/mainlog")" -ge 2 ]
ok $? "smtp listen mode: over TLS"
grep -q 'C: EHLO relay.example' "$T/lsmtp.err"
ok $? "--ehlo sets the EHLO name"
kill -TERM "$lpid"
wait_pid "$lpid" 10
is "$?" 0 "smtp listen mode: SIGTERM ends it with status 0"

"$RELAY" -v -p imap "${CA[@]}" "localhost:$imap_port" listen:127.0.0.1:0 \
    2>"$T/limap.err" &
lpid=$!
bg_pids="$bg_pids $lpid"
wait_for_line "$T/limap.err" 'listening on' || bail "relay did not listen"
lport=$(listen_port "$T/limap.err")
python3 - "$lport" >"$T/limap.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
print(f.readline().decode().strip())
s.sendall(b"a LOGIN test secret\r\nb LOGOUT\r\n")
for line in f:
    print(line.decode().strip())
PY
is "$(head -n 1 "$T/limap.out")" '* OK localhost ready' \
    "imap listen mode: a plaintext client gets our greeting"
grep -q '^a OK .*Logged in' "$T/limap.out"
ok $? "imap listen mode: and logs in (inside TLS)"
kill -TERM "$lpid"
wait_pid "$lpid" 10

"$RELAY" -v -p pop3 "${CA[@]}" "localhost:$pop3_port" listen:127.0.0.1:0 \
    2>"$T/lpop.err" &
lpid=$!
bg_pids="$bg_pids $lpid"
wait_for_line "$T/lpop.err" 'listening on' || bail "relay did not listen"
lport=$(listen_port "$T/lpop.err")
python3 - "$lport" >"$T/lpop.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
print(f.readline().decode().strip())
s.sendall(b"USER test\r\nPASS secret\r\nRETR 1\r\nQUIT\r\n")
for line in f:
    print(line.decode().strip())
PY
grep -q 'the body of the test message' "$T/lpop.out"
ok $? "pop3 listen mode: a plaintext client retrieves the message"
kill -TERM "$lpid"
wait_pid "$lpid" 10

# A plaintext client that speaks before TLS is up: its bytes wait, and go
# inside TLS (the test server echoes what it reads over TLS only).
start_peer early starttls smtp ok "$PKI/good.pem" "$PKI/good.key"
"$RELAY" -v -p smtp "${CA[@]}" "localhost:$port_early" \
    listen:127.0.0.1:0 2>"$T/early.err" &
lpid=$!
bg_pids="$bg_pids $lpid"
wait_for_line "$T/early.err" 'listening on' || bail "relay did not listen"
python3 - "$(listen_port "$T/early.err")" >"$T/early.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
s.sendall(b"EARLY-LINE\r\n")     # before the greeting, before TLS
f = s.makefile("rb")
for _ in range(4):
    print(f.readline().decode().strip())
PY
sed -n 2,3p "$T/early.out" | tr '\n' ' ' | grep -q '^tls-ok EARLY-LINE'
ok $? "early plaintext input is held and sent inside TLS"
kill -TERM "$lpid"
wait_pid "$lpid" 10

# The opening is bounded in time: a server that greets and then stalls.
bg python3 -c '
import socket, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(1)
print(s.getsockname()[1], flush=True)
c, _ = s.accept(); c.sendall(b"220-still\r\n"); time.sleep(60)' >"$T/stall.port"
wait_for_line "$T/stall.port" '^[0-9]+$'
timeout 30 "$RELAY" --timeout=0.5 -p smtp "${CA[@]}" "localhost:$(cat "$T/stall.port")" \
    </dev/null >/dev/null 2>"$T/err"
is "$?" 5 "a stalled opening ends at --timeout with status 5"
grep -q 'smtp opening timed out' "$T/err"
ok $? "and says the smtp opening timed out"

# A real server that does not offer STARTTLS.
printf 'QUIT\r\n' | timeout 30 "$RELAY" -p smtp "${CA[@]}" "localhost:$plain_exim" \
    >"$T/out" 2>"$T/err"
is "$?" 4 "smtp: Exim without STARTTLS: status 4"
grep -q 'does not offer STARTTLS (it offers: .*PIPELINING' "$T/err"
ok $? "smtp: the error names what the server offered"
[ ! -s "$T/out" ]
ok $? "smtp: nothing reached the plain side"
timeout 30 "$RELAY" -p smtp --opportunistic "${CA[@]}" "localhost:$plain_exim" \
    < <(printf 'QUIT\r\n') >"$T/out" 2>"$T/err"
is "$?/$(head -c 3 "$T/out")" "0/220" \
    "smtp --opportunistic: relays in clear text, greeting first"
grep -q 'CLEAR TEXT' "$T/err"
ok $? "smtp --opportunistic: warns"

# RFC 2817: upgrade with OPTIONS *, then a request over TLS.
start_peer http starttls http-upgrade ok "$PKI/good.pem" "$PKI/good.key"
printf 'GET /over-tls HTTP/1.1\r\nHost: localhost\r\n\r\n' |
    timeout 30 "$RELAY" -p http-upgrade "${CA[@]}" "localhost:$port_http" \
    >"$T/out" 2>"$T/err"
is "$?" 0 "http-upgrade: the session exits 0"
grep -q 'over TLS you asked for /over-tls' "$T/out"
ok $? "http-upgrade: the request was answered over TLS"

# http-upgrade with a plaintext HTTP client in front.
"$RELAY" -v -p http-upgrade "${CA[@]}" "localhost:$port_http" \
    listen:127.0.0.1:0 2>"$T/lhttp.err" &
lpid=$!
bg_pids="$bg_pids $lpid"
wait_for_line "$T/lhttp.err" 'listening on' || bail "relay did not listen"
python3 - "$(listen_port "$T/lhttp.err")" >"$T/lhttp.out" 2>&1 <<'PY'
import http.client, sys
c = http.client.HTTPConnection("127.0.0.1", int(sys.argv[1]), timeout=20)
c.request("GET", "/via-listen")
print(c.getresponse().read().decode().strip())
PY
grep -q 'over TLS you asked for /via-listen' "$T/lhttp.out"
ok $? "http-upgrade listen mode: a plaintext HTTP client is answered over TLS"
kill -TERM "$lpid"
wait_pid "$lpid" 10
finish
