#!/bin/bash
# LMTP, NNTP and ManageSieve in both roles.  Client role: the relay in
# front of Dovecot's LMTP and ManageSieve with TLS (swaks --protocol LMTP
# and a scripted ManageSieve client on its plain side; Dovecot's log must
# say TLS), of INN's nnrpd with TLS, and of a scripted NNTP server; hostile
# servers for each.  Server role: openssl s_client -starttls and gnutls-cli
# --starttls-proto in front of Dovecot and nnrpd without TLS and of a
# scripted NNTP backend (articles, posting); commands refused before TLS,
# dead backends.  Command injection is in tests/attacks/.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
. "$top_srcdir/tests/servers.sh"
require dovecot swaks gnutls-cli openssl python3 certtool
[ -x /usr/lib/dovecot/lmtp ] && [ -x /usr/lib/dovecot/managesieve ] &&
    [ -x /usr/lib/news/bin/nnrpd ] || {
	[ "${CI:-}" != true ] || bail "dovecot-lmtpd, dovecot-managesieved or inn2 is missing"
	echo "1..0 # SKIP dovecot-lmtpd, dovecot-managesieved or inn2 is not installed"
	exit 0
}
plan 66
make_pki
start_dovecot_line dtls
tls_lmtp=$lmtp_port tls_sieve=$sieve_port
start_dovecot_line dplain plain
plain_lmtp=$lmtp_port plain_sieve=$sieve_port
start_inn inntls
tls_nntp=$nntp_port
start_inn innplain plain
plain_nntp=$nntp_port
CA=(--cafile "$PKI/ca.pem")
SRV=(-s --cert "$PKI/good.pem" --key "$PKI/good.key")

# relay NAME ADDRESS ARGS...: a listening relay (-v), in the client role
# with ADDRESS its TLS side, in the server role (-s) its plain side; sets
# port_NAME.
relay() {
	local name=$1 addr=$2 tls plain
	shift 2
	tls=$addr plain=listen:127.0.0.1:0
	[ "$1" != -s ] || { tls=$plain plain=$addr; }
	start_relay "$name" "$@" "$tls" "$plain"
}

# sieve_client PORT USER PASS: a scripted ManageSieve client in clear text:
# logs in, stores and lists a script, logs out; prints what it was told.
sieve_client() {
	timeout 30 python3 - "$@" <<'PY'
import base64, socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline()
        sys.stdout.write(line.decode())
        if not line or line.split()[0] in (b"OK", b"NO", b"BYE"):
            return line
reply()
auth = base64.b64encode(b"\0" + sys.argv[2].encode() + b"\0" + sys.argv[3].encode())
s.sendall(b'AUTHENTICATE "PLAIN" "' + auth + b'"\r\n')
if not reply().startswith(b"OK"):
    sys.exit(1)
script = b'require "fileinto";\r\n# stored through the relay\r\nkeep;\r\n'
s.sendall(b'PUTSCRIPT "relayed" {%d+}\r\n' % len(script) + script + b"\r\n")
reply()
s.sendall(b"LISTSCRIPTS\r\n")
reply()
s.sendall(b"LOGOUT\r\n")
reply()
PY
}

# --- Client role, real peers.

# LMTP: swaks delivers through the relay to Dovecot's LMTP over TLS.
relay clmtp "localhost:$tls_lmtp" -p lmtp "${CA[@]}"
timeout 30 swaks --protocol LMTP --server 127.0.0.1 --port "$port_clmtp" \
    --from a@example.org --to test --header 'Subject: lmtp' \
    --body 'delivered by LMTP through the relay' </dev/null >"$T/swaks.out" 2>&1
is "$?" 0 "lmtp: swaks --protocol LMTP through the relay exits 0"
grep -rqs 'delivered by LMTP through the relay' "$T/dtls/home/test/Maildir/new"
ok $? "lmtp: Dovecot delivered the message"
grep -q 'lmtp([0-9]*): Debug: SSL: .*SSL negotiation finished successfully' \
    "$T/dtls/dovecot.log" && grep -q 'lmtp(test).*saved mail to INBOX' "$T/dtls/dovecot.log"
ok $? "lmtp: Dovecot's log shows the TLS handshake, then the delivery"
grep -q 'C: LHLO localhost' "$T/clmtp.err" && grep -q '^LHLO' <(sed -n 's/^ *-> //p' "$T/swaks.out")
ok $? "lmtp: the relay said LHLO, then swaks said its own inside TLS"

# ManageSieve: a plaintext client stores a script in Dovecot over TLS.
relay csieve "localhost:$tls_sieve" -p sieve "${CA[@]}"
sieve_client "$port_csieve" test secret >"$T/csieve.out" 2>&1
is "$?" 0 "sieve: a ManageSieve client through the relay logs in"
[ -f "$T/dtls/home/test/sieve/relayed.sieve" ] &&
    grep -q 'stored through the relay' "$T/dtls/home/test/sieve/relayed.sieve"
ok $? "sieve: Dovecot stored its script"
grep -q 'managesieve-login: Info: Login: user=<test>, method=PLAIN.*, TLS' \
    "$T/dtls/dovecot.log"
ok $? "sieve: Dovecot's log shows the login came over TLS"
# One capability list, Dovecot's from inside TLS: no replay, no STARTTLS.
[ "$(grep -c '^"IMPLEMENTATION"' "$T/csieve.out")" = 1 ] &&
    ! grep -q '"STARTTLS"' "$T/csieve.out" && grep -q '^"relayed"' "$T/csieve.out"
ok $? "sieve: the client sees the capabilities sent inside TLS, once"

# NNTP: INN's nnrpd.
printf 'CAPABILITIES\r\nGROUP test.group\r\nQUIT\r\n' | timeout 30 "$RELAY" -v \
    -p nntp "${CA[@]}" "localhost:$tls_nntp" >"$T/out" 2>"$T/err"
rc=$?
tr -d '\r' <"$T/out" >"$T/out.txt"
[ $rc -eq 0 ] && head -n 1 "$T/out.txt" | grep -q '^20[01] localhost ready'
ok $? "nntp: through the relay to INN exits 0, the plain side gets our greeting"
# 200 (posting allowed) only if INN's capabilities inside TLS list POST.
if grep -q '^POST' "$T/out.txt"; then want=200; else want=201; fi
is "$(head -n 1 "$T/out.txt" | cut -c1-3)" "$want" \
    "nntp: the greeting's posting status is what INN says inside TLS"
# INN offers SASL PLAIN only inside TLS, and STARTTLS only outside.
grep -q '^SASL .* PLAIN' "$T/out.txt" && ! grep -q '^STARTTLS' "$T/out.txt"
ok $? "nntp: INN's capabilities inside TLS: PLAIN, no STARTTLS"
grep -q '^211 0 1 0 test.group' "$T/out.txt" && grep -q '^205' "$T/out.txt"
ok $? "nntp: INN answered GROUP and QUIT inside TLS"

# NNTP: a scripted STARTTLS server.
start_peer nntpok starttls nntp ok "$PKI/good.pem" "$PKI/good.key"
printf 'ARTICLE 1\r\n' | timeout 30 "$RELAY" -v -p nntp "${CA[@]}" \
    "localhost:$port_nntpok" >"$T/out" 2>"$T/err"
is "$?" 0 "nntp: the session exits 0"
is "$(tr -d '\r' <"$T/out" | tr '\n' '|')" \
    "200 localhost ready (posting allowed)|ARTICLE 1|" \
    "nntp: the plain side gets our greeting, then talks inside TLS"
grep -q 'C: CAPABILITIES' "$T/err" && grep -q 'S: 382 ' "$T/err"
ok $? "nntp: CAPABILITIES, STARTTLS, 382 in the transcript"

# --- Client role, hostile servers.
for proto in lmtp nntp sieve; do
	for mode in notoffered refuse inject inject-later; do
		start_peer fs starttls "$proto" "$mode" "$PKI/good.pem" "$PKI/good.key"
		printf 'x\r\n' | timeout 30 "$RELAY" -p "$proto" "${CA[@]}" \
		    "localhost:$port_fs" >"$T/out" 2>"$T/err"
		rc=$?
		case $mode in
		notoffered) re='does not offer STARTTLS' ;;
		refuse) re='STARTTLS refused' ;;
		*) re='injection' ;;
		esac
		if [ $rc -eq 4 ] && grep -Eq "$re" "$T/err" &&
		    ! grep -q INJECTED "$T/out" && [ ! -s "$T/out" ]; then
			ok 0 "$proto $mode: status 4, said why, nothing relayed"
		else
			ok 1 "$proto $mode: status 4 (got $rc), said why, nothing relayed"
			sed 's/^/# /' "$T/err"
		fi
	done
done
start_peer nntpno starttls nntp notoffered "$PKI/good.pem" "$PKI/good.key"
printf 'QUIT\r\n' | timeout 30 "$RELAY" -p nntp --opportunistic "${CA[@]}" \
    "localhost:$port_nntpno" >"$T/out" 2>"$T/err"
is "$?/$(head -c 3 "$T/out")" "0/200" \
    "nntp --opportunistic: relays in clear text, greeting first"

# --- Server role, real clients.

# LMTP in front of Dovecot's LMTP without TLS.
relay slmtp "127.0.0.1:$plain_lmtp" "${SRV[@]}" -p lmtp
until='^221'
for tool in s_client gnutls-cli; do
	client_run $tool lmtp "$port_slmtp" 'LHLO client.example' \
	    'MAIL FROM:<a@example.org>' 'RCPT TO:<test>' DATA \
	    "Subject: $tool" '' "delivered over LMTP by $tool" . QUIT
	is "$rc" 0 "lmtp: $tool -starttls lmtp exits 0"
	grep -rqs "delivered over LMTP by $tool" "$T/dplain/home/test/Maildir/new"
	ok $? "lmtp: $tool's message was delivered through the relay"
done
timeout 30 swaks --protocol LMTP --tls --server 127.0.0.1 --port "$port_slmtp" \
    --tls-ca-path "$PKI/ca.pem" --tls-verify --from a@example.org --to test \
    --body 'delivered by swaks --tls' </dev/null >"$T/swaks2.out" 2>&1
is "$?" 0 "lmtp: swaks --protocol LMTP --tls exits 0"
grep -rqs 'delivered by swaks --tls' "$T/dplain/home/test/Maildir/new"
ok $? "lmtp: swaks' message was delivered"
grep -q 'S: 250 STARTTLS' "$T/slmtp.err"
ok $? "lmtp: the relay added STARTTLS to Dovecot's LHLO reply"

# ManageSieve in front of Dovecot's ManageSieve without TLS.
relay ssieve "127.0.0.1:$plain_sieve" "${SRV[@]}" -p sieve
until='^OK "Logout'
auth=$(printf '\0test\0secret' | base64)
for tool in s_client gnutls-cli; do
	client_run $tool sieve "$port_ssieve" "AUTHENTICATE \"PLAIN\" \"$auth\"" \
	    LISTSCRIPTS LOGOUT
	is "$rc" 0 "sieve: $tool -starttls sieve exits 0"
	grep -q '^"IMPLEMENTATION" "Dovecot' "$T/out" && ! grep -q STARTTLS "$T/out"
	ok $? "sieve: $tool gets the capabilities inside TLS, without STARTTLS"
	grep -q '^OK "Logged in' "$T/out"
	ok $? "sieve: $tool logs in to Dovecot through the relay"
done
grep -q 'S: "STARTTLS"' "$T/ssieve.err"
ok $? "sieve: the relay added STARTTLS to Dovecot's capabilities"
# Before TLS a literal goes to Dovecot with its line, up to the opening's
# bound (Dovecot's own, before login, is lower: the unit tests go to 5000
# bytes); one beyond it gets NO, and the session goes on to STARTTLS.
python3 - "$port_ssieve" >"$T/slit.out" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
def reply():
    while True:
        line = f.readline()
        if not line or line.split(b" ")[0] in (b"OK", b"NO", b"BYE"):
            return line.decode().strip()
reply()
s.sendall(b"NOOP {300+}\r\n" + b"t" * 300 + b"\r\n")
print("noop:", reply()[:40])
s.sendall(b'PUTSCRIPT "a" {100000+}\r\n' + b"#" * 100000 + b"\r\n")
print("put:", reply())
s.sendall(b"STARTTLS\r\n")
print("starttls:", reply())
PY
grep -q '^noop: OK (TAG ' "$T/slit.out"
ok $? "sieve: a literal before TLS reaches Dovecot with its line (NOOP's tag)"
grep -q '^put: NO "Literal too big before STARTTLS"' "$T/slit.out" &&
    grep -q '^starttls: OK "Begin TLS' "$T/slit.out"
ok $? "sieve: one of 100000 bytes gets NO, and STARTTLS follows"
# The program's client role through its server role: one capability list.
relay csieve2 "localhost:$port_ssieve" -p sieve "${CA[@]}"
sieve_client "$port_csieve2" test secret >"$T/csieve2.out" 2>&1
is "$?" 0 "sieve: our client role through our server role logs in"
[ -f "$T/dplain/home/test/sieve/relayed.sieve" ] &&
    [ "$(grep -c '^"IMPLEMENTATION"' "$T/csieve2.out")" = 1 ] &&
    ! grep -q STARTTLS "$T/csieve2.out"
ok $? "sieve: the script was stored, the plain client saw one capability list"

# NNTP in front of INN's nnrpd without TLS.
relay sinn "127.0.0.1:$plain_nntp" "${SRV[@]}" -p nntp
until='^205'
for tool in s_client gnutls-cli; do
	client_run $tool nntp "$port_sinn" 'GROUP test.group' QUIT
	is "$rc" 0 "nntp: $tool -starttls nntp in front of INN exits 0"
	grep -q '^211 0 1 0 test.group' "$T/out"
	ok $? "nntp: $tool reads INN's group through the relay"
done

# Before TLS INN hears only CAPABILITIES, MODE READER, HELP, DATE, QUIT.
python3 - "$port_sinn" >"$T/sinn.clear" 2>&1 <<'PY'
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=20)
f = s.makefile("rb")
f.readline()
for cmd in (b"GROUP test.group", b"LIST", b"ARTICLE 1", b"DATE"):
    s.sendall(cmd + b"\r\n")
    print(f.readline().decode().strip())
PY
[ "$(grep -c '^483 Encryption required' "$T/sinn.clear")" = 3 ] &&
    grep -q '^111 ' "$T/sinn.clear"
ok $? "nntp: before TLS GROUP, LIST and ARTICLE get 483 from the relay, DATE goes to INN" ||
    sed 's/^/# /' "$T/sinn.clear"

# NNTP in front of a scripted plaintext backend.
start_peer nntpb backend nntp "$T/nntp.rec"
relay snntp "127.0.0.1:$port_nntpb" "${SRV[@]}" -p nntp
until='^205'
for tool in s_client gnutls-cli; do
	: >"$T/nntp.rec"
	client_run $tool nntp "$port_snntp" 'AUTHINFO USER test' \
	    'AUTHINFO PASS secret' 'GROUP test.group' 'ARTICLE 1' QUIT
	is "$rc" 0 "nntp: $tool -starttls nntp exits 0"
	grep -q '^281' "$T/out" && grep -q 'the body of the test article' "$T/out"
	ok $? "nntp: $tool logs in and reads the article through the relay"
	grep -q '^AUTHINFO PASS secret' "$T/nntp.rec"
	ok $? "nntp: AUTHINFO reached the backend only after TLS"
done
grep -q 'S: STARTTLS' "$T/snntp.err"
ok $? "nntp: the relay added STARTTLS to the CAPABILITIES list"
: >"$T/nntp.rec"
printf 'POST\r\nFrom: a@example.org\r\nNewsgroups: test.group\r\nSubject: post\r\n\r\nposted through both roles\r\n.\r\nQUIT\r\n' |
    timeout 30 "$RELAY" -p nntp "${CA[@]}" "localhost:$port_snntp" >"$T/out" 2>"$T/err"
is "$?" 0 "nntp: our client role through our server role exits 0"
grep -q '^240' "$T/out" && grep -q 'posted through both roles' "$T/nntp.rec"
ok $? "nntp: an article was posted through both roles"

# Refused before TLS, and never forwarded.
for proto in lmtp nntp sieve; do
	start_peer "rec$proto" backend "$proto" "$T/rec.$proto"
done
relay rlmtp "127.0.0.1:$port_reclmtp" "${SRV[@]}" -p lmtp
relay rnntp "127.0.0.1:$port_recnntp" "${SRV[@]}" -p nntp
relay rsieve "127.0.0.1:$port_recsieve" "${SRV[@]}" -p sieve
python3 - "$port_rlmtp" "$port_rnntp" "$port_rsieve" >"$T/refused" 2>&1 <<'PY'
import socket, sys
def talk(port, greet_lines, cmd):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    f = s.makefile("rb")
    for _ in range(greet_lines):
        f.readline()
    s.sendall(cmd)
    print(f.readline().decode().strip())
    s.close()
talk(sys.argv[1], 1, b"MAIL FROM:<a@example.org>\r\n")
talk(sys.argv[2], 1, b"AUTHINFO USER test\r\n")
talk(sys.argv[3], 6, b'AUTHENTICATE "PLAIN" "AHRlc3QAc2VjcmV0"\r\n')
talk(sys.argv[2], 1, b"COMPRESS DEFLATE\r\n")
PY
is "$(sed -n 1p "$T/refused")" "530 5.7.0 Must issue a STARTTLS command first" \
    "lmtp: MAIL before TLS gets 530"
is "$(sed -n 2p "$T/refused")" "483 Encryption required: issue STARTTLS first" \
    "nntp: AUTHINFO before TLS gets 483"
is "$(sed -n 3p "$T/refused")" 'NO (ENCRYPT-NEEDED) "Must issue STARTTLS first"' \
    "sieve: AUTHENTICATE before TLS gets NO (ENCRYPT-NEEDED)"
is "$(sed -n 4p "$T/refused")" "483 Encryption required: issue STARTTLS first" \
    "nntp: COMPRESS before TLS gets 483"
! grep -q 'MAIL\|AUTHINFO\|AUTHENTICATE\|COMPRESS' "$T/rec.lmtp" "$T/rec.nntp" \
    "$T/rec.sieve"
ok $? "none of them reached the backend"

# A dead backend: the client is told in its protocol.
dead_port >"$T/dead.port"; dead=$(cat "$T/dead.port")
for proto in lmtp nntp sieve; do
	relay "dead$proto" "127.0.0.1:$dead" "${SRV[@]}" -p "$proto"
done
python3 - "$port_deadlmtp" "$port_deadnntp" "$port_deadsieve" >"$T/dead" 2>&1 <<'PY'
import socket, sys
for port in sys.argv[1:]:
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    print(s.makefile("rb").readline().decode().strip())
PY
is "$(tr '\n' '|' <"$T/dead")" \
    '421 4.3.2 Service not available, closing channel|400 Service temporarily unavailable|BYE (TRYLATER) "Service not available"|' \
    "a dead backend: 421 (lmtp), 400 (nntp), BYE (TRYLATER) (sieve)"

finish
