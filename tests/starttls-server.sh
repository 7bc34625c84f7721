#!/bin/bash
# STARTTLS in the server role: the relay in front of plaintext backends
# (Exim, Dovecot, a Python HTTP server), reached by real clients:
# openssl s_client -starttls, gnutls-cli --starttls-proto, curl --ssl-reqd,
# swaks --tls, the program's own client role; commands refused before TLS,
# and an inetd session under tcpserver.  Command injection is in
# tests/attacks/.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/servers.sh"
require dovecot exim4 swaks curl gnutls-cli openssl tcpserver python3 certtool
plan 33
make_pki
start_dovecot plain
start_exim exim no
SRV=(-s --cert "$PKI/good.pem" --key "$PKI/good.key")

# relay NAME PROTO BACKEND-PORT [ARGS...]: a listening server-role relay;
# sets port_NAME.
relay() {
	local name=$1 proto=$2 backend=$3
	shift 3
	start_relay "$name" "${SRV[@]}" -p "$proto" "$@" listen:127.0.0.1:0 \
	    "127.0.0.1:$backend"
}
relay smtp smtp "$exim_port"
relay imap imap "$imap_port"
relay pop3 pop3 "$pop3_port"

# SMTP: openssl s_client and gnutls-cli send mail through the relay.
until='^221'
for tool in s_client gnutls-cli; do
	client_run $tool smtp "$port_smtp" 'EHLO client.example' \
	    'MAIL FROM:<a@example.org>' 'RCPT TO:<user@test.example>' DATA \
	    "Subject: $tool" '' "sent by $tool" . QUIT
	is "$rc" 0 "smtp: $tool with STARTTLS exits 0"
	wait_for_line "$T/exim/inbox" "sent by $tool" 10
	ok $? "smtp: $tool's message was delivered through the relay"
done

printf 'Subject: curl\r\n\r\nsent by curl\r\n' >"$T/mail.txt"
timeout 30 curl -sS --ssl-reqd --cacert "$PKI/ca.pem" \
    "smtp://127.0.0.1:$port_smtp" --mail-from a@example.org \
    --mail-rcpt user@test.example --upload-file "$T/mail.txt" >"$T/out" 2>&1
is "$?" 0 "smtp: curl --ssl-reqd smtp:// exits 0"
wait_for_line "$T/exim/inbox" 'sent by curl' 10
ok $? "smtp: curl's message was delivered"

timeout 30 swaks --tls --server 127.0.0.1 --port "$port_smtp" \
    --tls-ca-path "$PKI/ca.pem" --tls-verify \
    --from a@example.org --to user@test.example --body 'sent by swaks' \
    >"$T/swaks.out" 2>&1
is "$?" 0 "smtp: swaks --tls exits 0"
wait_for_line "$T/exim/inbox" 'sent by swaks' 10
ok $? "smtp: swaks' message was delivered"
grep -q '250 STARTTLS' "$T/smtp.err"
ok $? "smtp: the relay added STARTTLS to the backend's EHLO reply"

# IMAP.
until='^d OK'
for client in s_client gnutls-cli; do
	client_run $client imap "$port_imap" 'a LOGIN test secret' \
	    'b SELECT INBOX' 'c FETCH 1 BODY[]' 'd LOGOUT'
	is "$rc" 0 "imap: $client exits 0"
	grep -q 'the body of the test message' "$T/out"
	ok $? "imap: $client logs in and fetches the message through the relay"
done
timeout 30 curl -sS --ssl-reqd --cacert "$PKI/ca.pem" -u test:secret \
    "imap://127.0.0.1:$port_imap/" >"$T/out" 2>&1
is "$?" 0 "imap: curl --ssl-reqd imap:// exits 0"
grep -q 'INBOX' "$T/out"
ok $? "imap: curl lists the mailbox"

# POP3.
until='^\+OK Logging out'
for client in s_client gnutls-cli; do
	client_run $client pop3 "$port_pop3" 'USER test' 'PASS secret' 'RETR 1' \
	    QUIT
	is "$rc" 0 "pop3: $client exits 0"
	grep -q 'the body of the test message' "$T/out"
	ok $? "pop3: $client retrieves the message through the relay"
done
timeout 30 curl -sS --ssl-reqd --cacert "$PKI/ca.pem" -u test:secret \
    "pop3://127.0.0.1:$port_pop3/1" >"$T/out" 2>&1
grep -q 'the body of the test message' "$T/out"
ok $? "pop3: curl --ssl-reqd pop3:// retrieves the message"

# HTTP Upgrade (RFC 2817) in front of a plaintext HTTP server.
mkdir "$T/www"
echo 'a file served over an upgraded connection' >"$T/www/hello.txt"
hport=$(free_port)
bg python3 -m http.server --bind 127.0.0.1 --directory "$T/www" "$hport"
wait_for_port "$hport" || bail "http.server did not start"
relay http http-upgrade "$hport"
printf 'GET /hello.txt HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n' |
    timeout 30 "$RELAY" -p http-upgrade --cafile "$PKI/ca.pem" "localhost:$port_http" \
    >"$T/out" 2>"$T/err"
is "$?" 0 "http-upgrade: the program's client role through its server role exits 0"
grep -q 'a file served over an upgraded connection' "$T/out"
ok $? "http-upgrade: OPTIONS *, then the request over TLS, answered"
python3 - "$port_http" "$PKI/ca.pem" >"$T/http.out" 2>&1 <<'PY'
import socket, ssl, sys
def request(upgrade):
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
    s.sendall(b"GET /hello.txt HTTP/1.1\r\nHost: localhost\r\n" +
              (b"Upgrade: TLS/1.0\r\nConnection: Upgrade\r\n" if upgrade else b"") +
              b"\r\n")
    head = b""
    while not head.endswith(b"\r\n\r\n"):
        head += s.recv(1)
    print(head.split(b"\r\n")[0].decode())
    if not upgrade:
        return
    ctx = ssl.create_default_context(cafile=sys.argv[2])
    t = ctx.wrap_socket(s, server_hostname="localhost")
    data = b""
    while True:
        chunk = t.recv(4096)
        if not chunk:
            break
        data += chunk
    print(data.decode(errors="replace"))
request(True)
request(False)
PY
head -n 1 "$T/http.out" | grep -q '^HTTP/1.1 101 '
ok $? "http-upgrade: a real request with Upgrade: TLS/1.0 gets 101"
grep -q 'a file served over an upgraded connection' "$T/http.out"
ok $? "http-upgrade: and is answered over TLS (RFC 2817 3.3)"
grep -q '^HTTP/1.1 426 Upgrade Required' "$T/http.out"
ok $? "http-upgrade: a request without the upgrade gets 426"

# inetd: tcpserver runs one relay per connection, TLS side on stdin/stdout.
iport=$(free_port)
bg tcpserver -q -R -H 127.0.0.1 "$iport" "$RELAY" -q "${SRV[@]}" -p smtp - \
    "127.0.0.1:$exim_port"
wait_for_port "$iport" || bail "tcpserver did not start"
timeout 30 swaks --tls --server 127.0.0.1 --port "$iport" \
    --tls-ca-path "$PKI/ca.pem" --tls-verify \
    --from a@example.org --to user@test.example --body 'sent under tcpserver' \
    >"$T/swaks2.out" 2>&1
is "$?" 0 "smtp under tcpserver: swaks --tls exits 0"
wait_for_line "$T/exim/inbox" 'sent under tcpserver' 10
ok $? "smtp under tcpserver: the message was delivered"

# Refused before TLS, and never forwarded.
python3 - "$port_smtp" "$port_imap" "$port_pop3" >"$T/refused" 2>&1 <<'PY'
import socket, sys
def talk(port, greet_lines, cmd):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    f = s.makefile("rb")
    for _ in range(greet_lines):
        f.readline()
    s.sendall(cmd)
    print(f.readline().decode().strip())
    s.close()
talk(sys.argv[1], 1, b"AUTH PLAIN AHRlc3QAc2VjcmV0\r\n")
talk(sys.argv[2], 1, b"a LOGIN test secret\r\n")
talk(sys.argv[3], 1, b"USER test\r\n")
PY
is "$(sed -n 1p "$T/refused")" "530 5.7.0 Must issue a STARTTLS command first" \
    "smtp: AUTH before TLS gets 530"
is "$(sed -n 2p "$T/refused")" "a NO [PRIVACYREQUIRED] Must issue STARTTLS first" \
    "imap: LOGIN before TLS is refused"
is "$(sed -n 3p "$T/refused")" "-ERR [AUTH] Must issue STLS first" \
    "pop3: USER before TLS is refused"

# Literals before TLS: an ID's goes to Dovecot (as a quoted string, after
# our "+"), one beyond the opening's bound gets NO [TOOBIG], and STARTTLS
# follows.
python3 - "$port_imap" >"$T/lit" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
def upto(tag):
    while True:
        line = f.readline().decode().strip()
        if not line or line.startswith(tag + " ") or line.startswith("+"):
            return line
f.readline()
s.sendall(b'a ID ("name" {9}\r\n')
print("ahead:", upto("a")[:1])
s.sendall(b'relaytest)\r\n')
print("id:", upto("a"))
s.sendall(b'b ID ("name" {100000}\r\n')
print("big:", upto("b"))
s.sendall(b"c STARTTLS\r\n")
print("starttls:", upto("c"))
PY
grep -q '^ahead: +$' "$T/lit" && grep -q '^id: a OK' "$T/lit"
ok $? "imap: an ID with a {N} literal before TLS gets '+', and Dovecot's OK"
grep -q 'ID sent: name=relaytest' "$T/dovecot/dovecot.log"
ok $? "imap: the literal reached Dovecot as a quoted string"
grep -q '^big: b NO \[TOOBIG\] Literal too big before STARTTLS$' "$T/lit" &&
    grep -q '^starttls: c OK Begin TLS' "$T/lit"
ok $? "imap: a literal beyond the bound gets NO [TOOBIG]; STARTTLS follows"

finish
