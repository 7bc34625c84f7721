#!/bin/bash
# The binary STARTTLS protocols against real peers: PostgreSQL 15 (initdb
# and postgres as the unprivileged postgres user when run as root) and OpenLDAP slapd, from
# private configurations in $T on loopback.  Client role: psql
# (sslmode=disable) and ldapwhoami (no -ZZ) through the relay to servers
# that accept only TLS; server role: psql sslmode=verify-full/require,
# ldapwhoami/ldapsearch -ZZ, openssl s_client -starttls and gnutls-cli
# --starttls-proto against the relay in front of plaintext servers; the
# refusals, injection both ways, a dead backend.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
PGBIN=/usr/lib/postgresql/15/bin
PATH=$PATH:$PGBIN:/usr/sbin
require initdb postgres psql slapd ldapwhoami ldapsearch openssl gnutls-cli \
    python3 certtool
plan 49
make_pki
CA=(--cafile "$PKI/ca.pem")
SRV=(-s --cert "$PKI/good.pem" --key "$PKI/good.key")
chmod 755 "$T"

# PostgreSQL refuses to run as root.
as_pg=()
[ "$(id -u)" != 0 ] || as_pg=(runuser -u postgres --)

# start_pg NAME on|off: a PostgreSQL server as the postgres user, trusting
# everyone from 127.0.0.1; "on": TLS connections only (hostssl), "off": no
# TLS at all.  Sets pg_port; its log is $T/NAME/log.
start_pg() {
	local d=$T/$1 hba='host all all 127.0.0.1/32 trust'
	mkdir -p "$d"
	cp "$PKI/good.pem" "$PKI/good.key" "$d/"
	[ "$(id -u)" != 0 ] || chown -R postgres "$d"
	chmod 600 "$d/good.key"
	"${as_pg[@]}" initdb -D "$d/data" -A trust -U postgres \
	    --no-sync >"$d/initdb.log" 2>&1 || bail "initdb failed: $(cat "$d/initdb.log")"
	[ "$2" = off ] || hba='hostssl all all 127.0.0.1/32 trust'
	echo "$hba" >"$d/data/pg_hba.conf"
	pg_port=$(free_port)
	bg "${as_pg[@]}" postgres -D "$d/data" -p "$pg_port" \
	    -c listen_addresses=127.0.0.1 -c unix_socket_directories="$d" \
	    -c ssl="$2" -c ssl_cert_file="$d/good.pem" \
	    -c ssl_key_file="$d/good.key" -c fsync=off \
	    -c log_connections=on -c logging_collector=off -c log_destination=stderr \
	    2>"$d/log"
	wait_for_line "$d/log" 'ready to accept connections' 30 ||
	    bail "postgres $1 did not start: $(cat "$d/log")"
}

# start_slapd NAME tls|plain: slapd with an empty dc=example,dc=org whose
# rootdn cn=admin has the password "secret".  "tls": a certificate and
# "security tls=1", so that nothing works without TLS; "plain": no TLS.
# Sets ldap_port; its log (stats) is $T/NAME/log.
start_slapd() {
	local d=$T/$1
	mkdir -p "$d/db"
	ldap_port=$(free_port)
	{
		echo "include /etc/ldap/schema/core.schema"
		echo "modulepath /usr/lib/ldap"
		echo "moduleload back_mdb"
		echo "pidfile $d/slapd.pid"
		echo "argsfile $d/slapd.args"
		if [ "$2" = tls ]; then
			echo "TLSCertificateFile $PKI/good.pem"
			echo "TLSCertificateKeyFile $PKI/good.key"
			echo "security tls=1"
		fi
		echo "database mdb"
		echo "suffix dc=example,dc=org"
		echo "rootdn cn=admin,dc=example,dc=org"
		echo "rootpw secret"
		echo "directory $d/db"
		echo "maxsize 10485760"
	} >"$d/slapd.conf"
	bg slapd -f "$d/slapd.conf" -h "ldap://127.0.0.1:$ldap_port/" -d 256 \
	    2>"$d/log"
	wait_for_port "$ldap_port" 20 || bail "slapd $1 did not start: $(cat "$d/log")"
}


start_pg pgtls on
pg_tls=$pg_port
start_pg pgplain off
pg_plain=$pg_port
start_slapd ldtls tls
ld_tls=$ldap_port
start_slapd ldplain plain
ld_plain=$ldap_port
PSQL=(timeout 30 psql -X -A -t -v ON_ERROR_STOP=1)
SSL_USED='select ssl from pg_stat_ssl where pid = pg_backend_pid()'

# PostgreSQL, client role: psql without TLS through the relay to a server
# that takes TLS connections only.
start_relay pgc -p postgres "${CA[@]}" --servername localhost "127.0.0.1:$pg_tls" \
    listen:127.0.0.1:0
out=$("${PSQL[@]}" "host=127.0.0.1 port=$port_pgc user=postgres dbname=postgres sslmode=disable" \
    -c "$SSL_USED" 2>"$T/psql.err")
is "$?/$out" "0/t" "postgres client: psql sslmode=disable through the relay, the server says ssl=t"
grep -q 'connection authorized: user=postgres database=postgres.* SSL enabled' "$T/pgtls/log"
ok $? "postgres client: the server's log shows the login came over TLS"
grep -q 'C: SSLRequest' "$T/pgc.err" && grep -q 'S: S (SSL accepted)' "$T/pgc.err"
ok $? "postgres client: -v shows the SSLRequest and the 'S'"

# A server without TLS answers 'N': fail closed, or --opportunistic.
timeout 30 "$RELAY" -p postgres "${CA[@]}" "localhost:$pg_plain" </dev/null \
    >"$T/out" 2>"$T/err"
is "$?" 4 "postgres client: a server without SSL ('N'): status 4"
grep -q "does not offer SSL (it offers: 'N')" "$T/err"
ok $? "postgres client: and says so"
start_relay pgopp -p postgres --opportunistic "${CA[@]}" "localhost:$pg_plain" \
    listen:127.0.0.1:0
out=$("${PSQL[@]}" "host=127.0.0.1 port=$port_pgopp user=postgres dbname=postgres sslmode=disable" \
    -c "$SSL_USED" 2>"$T/psql.err")
is "$?/$out" "0/f" "postgres client --opportunistic: psql in clear text, ssl=f"
grep -q 'CLEAR TEXT' "$T/pgopp.err"
ok $? "postgres client --opportunistic: warns"

# PostgreSQL, server role: the relay in front of a server without TLS.
start_relay pgs "${SRV[@]}" -p postgres listen:127.0.0.1:0 "127.0.0.1:$pg_plain"
out=$("${PSQL[@]}" "host=localhost port=$port_pgs user=postgres dbname=postgres sslmode=verify-full sslrootcert=$PKI/ca.pem" \
    -c 'select 6 * 7' -c '\conninfo' 2>"$T/psql.err")
is "$?/$(echo "$out" | head -n 1)" "0/42" "postgres server: psql sslmode=verify-full through the relay"
echo "$out" | grep -q 'SSL connection (protocol: TLSv1'
ok $? "postgres server: psql reports an SSL connection"
out=$("${PSQL[@]}" "host=127.0.0.1 port=$port_pgs user=postgres dbname=postgres sslmode=require" \
    -c 'select 1' 2>"$T/psql.err")
is "$?/$out" "0/1" "postgres server: psql sslmode=require"
"${PSQL[@]}" "host=127.0.0.1 port=$port_pgs user=postgres dbname=postgres sslmode=disable" \
    -c 'select 1' >"$T/out" 2>"$T/psql.err"
[ $? -ne 0 ] && grep -q 'SSL required' "$T/psql.err"
ok $? "postgres server: psql sslmode=disable gets FATAL 'SSL required'"
grep -q 'StartupMessage without SSLRequest: refused' "$T/pgs.err"
ok $? "postgres server: the relay logs the refusal"
timeout 30 openssl s_client -starttls postgres -connect "127.0.0.1:$port_pgs" \
    -verify_return_error -CAfile "$PKI/ca.pem" -servername localhost \
    </dev/null >"$T/out" 2>"$T/err"
rc=$?
grep -q 'Verify return code: 0 (ok)' "$T/out"
is "$rc/$?" "0/0" "postgres server: openssl s_client -starttls postgres verifies"
timeout 30 gnutls-cli --starttls-proto=postgres --x509cafile "$PKI/ca.pem" \
    -p "$port_pgs" localhost </dev/null >"$T/out" 2>"$T/err"
rc=$?
grep -q 'Handshake was completed' "$T/out" "$T/err"
is "$rc/$?" "0/0" "postgres server: gnutls-cli --starttls-proto=postgres completes the handshake"

start_relay pgap "${SRV[@]}" -p postgres --allow-plain listen:127.0.0.1:0 "127.0.0.1:$pg_plain"
out=$("${PSQL[@]}" "host=127.0.0.1 port=$port_pgap user=postgres dbname=postgres sslmode=disable" \
    -c "select 'plain ok'" 2>"$T/psql.err")
is "$?/$out" "0/plain ok" "postgres server --allow-plain: psql without TLS reaches the backend"
out=$("${PSQL[@]}" "host=localhost port=$port_pgap user=postgres dbname=postgres sslmode=verify-full sslrootcert=$PKI/ca.pem" \
    -c "select 'tls ok'" 2>"$T/psql.err")
is "$?/$out" "0/tls ok" "postgres server --allow-plain: and psql with TLS too"

dead_port >"$T/dead.port"; dead=$(cat "$T/dead.port")
start_relay pgdead "${SRV[@]}" -p postgres listen:127.0.0.1:0 "127.0.0.1:$dead"
"${PSQL[@]}" "host=127.0.0.1 port=$port_pgdead user=postgres dbname=postgres sslmode=disable" \
    -c 'select 1' >"$T/out" 2>"$T/psql.err"
[ $? -ne 0 ] && grep -q 'FATAL:  the database server is not available' "$T/psql.err"
ok $? "postgres server: a dead backend: psql gets an ErrorResponse"
# libpq >= 15.10 shows no server text before TLS (CVE-2024-10977).
"${PSQL[@]}" "host=127.0.0.1 port=$port_pgdead user=postgres dbname=postgres sslmode=require" \
    -c 'select 1' >"$T/out" 2>"$T/psql.err"
[ $? -ne 0 ] && grep -Eq 'error response during SSL exchange|not available' "$T/psql.err"
ok $? "postgres server: a dead backend: and answers SSLRequest with it"

# LDAP, client role: ldapwhoami without -ZZ through the relay to a slapd
# that requires TLS for everything ("security tls=1").
ADMIN=(-x -D cn=admin,dc=example,dc=org -w secret)
start_relay ldc -p ldap "${CA[@]}" --servername localhost "127.0.0.1:$ld_tls" \
    listen:127.0.0.1:0
out=$(timeout 30 ldapwhoami "${ADMIN[@]}" -H "ldap://127.0.0.1:$port_ldc" 2>"$T/ldap.err")
is "$?/$out" "0/dn:cn=admin,dc=example,dc=org" \
    "ldap client: ldapwhoami (bind, no -ZZ) through the relay"
grep -q 'TLS established tls_ssf=' "$T/ldtls/log" &&
    grep -q 'BIND dn="cn=admin,dc=example,dc=org" mech=SIMPLE .*ssf=[1-9]' "$T/ldtls/log"
ok $? "ldap client: slapd's log shows StartTLS, then the bind inside TLS"
timeout 30 ldapwhoami "${ADMIN[@]}" -H "ldap://127.0.0.1:$ld_tls" >/dev/null 2>&1
[ $? -ne 0 ]
ok $? "ldap client: (the same slapd refuses ldapwhoami without TLS)"
grep -q 'C: ExtendedRequest StartTLS (messageID 1)' "$T/ldc.err" &&
    grep -q 'S: ExtendedResponse (messageID 1, resultCode 0' "$T/ldc.err"
ok $? "ldap client: -v shows the StartTLS request and its response"

# A slapd without TLS refuses StartTLS: fail closed, or --opportunistic.
timeout 30 "$RELAY" -p ldap "${CA[@]}" "localhost:$ld_plain" </dev/null \
    >"$T/out" 2>"$T/err"
is "$?" 4 "ldap client: a slapd without TLS: status 4"
grep -q 'does not offer StartTLS (it offers: resultCode [0-9]' "$T/err"
ok $? "ldap client: and names its resultCode"
start_relay ldopp -p ldap --opportunistic "${CA[@]}" "localhost:$ld_plain" \
    listen:127.0.0.1:0
out=$(timeout 30 ldapwhoami "${ADMIN[@]}" -H "ldap://127.0.0.1:$port_ldopp" 2>"$T/ldap.err")
is "$?/$out" "0/dn:cn=admin,dc=example,dc=org" \
    "ldap client --opportunistic: ldapwhoami in clear text"

# LDAP, server role: the relay in front of a slapd without TLS.  (The URLs
# say 127.0.0.1: libldap checks "localhost" against the reverse lookup.)
export LDAPTLS_CACERT=$PKI/ca.pem LDAPTLS_REQCERT=demand
start_relay lds "${SRV[@]}" -p ldap listen:127.0.0.1:0 "127.0.0.1:$ld_plain"
out=$(timeout 30 ldapwhoami -ZZ "${ADMIN[@]}" -H "ldap://127.0.0.1:$port_lds" 2>"$T/ldap.err")
is "$?/$out" "0/dn:cn=admin,dc=example,dc=org" "ldap server: ldapwhoami -ZZ through the relay"
out=$(timeout 30 ldapsearch -ZZ -x -LLL -H "ldap://127.0.0.1:$port_lds" -b '' -s base \
    namingContexts 2>"$T/ldap.err")
echo "$out" | grep -q '^namingContexts: dc=example,dc=org'
ok $? "ldap server: ldapsearch -ZZ reads the root DSE"
timeout 30 ldapwhoami -x -D cn=refused,dc=example,dc=org -w secret \
    -H "ldap://127.0.0.1:$port_lds" >"$T/out" 2>"$T/ldap.err"
[ $? -ne 0 ] && grep -q 'Confidentiality required (13)' "$T/ldap.err" &&
    grep -q 'StartTLS required' "$T/ldap.err"
ok $? "ldap server: a bind without StartTLS gets confidentialityRequired"
! grep -q 'cn=refused' "$T/ldplain/log"
ok $? "ldap server: and never reached slapd"
timeout 30 ldapsearch -x -LLL -H "ldap://127.0.0.1:$port_lds" \
    -b dc=example,dc=org >"$T/out" 2>"$T/ldap.err"
[ $? -ne 0 ] && grep -q 'Confidentiality required (13)' "$T/ldap.err"
ok $? "ldap server: so does a search without StartTLS"
# Before TLS the root DSE is ours: it lists StartTLS, which the plaintext
# slapd behind does not.
out=$(timeout 30 ldapsearch -x -LLL -H "ldap://127.0.0.1:$port_lds" -b '' \
    -s base supportedExtension 2>"$T/ldap.err")
is "$?/$out" "0/dn:
supportedExtension: 1.3.6.1.4.1.1466.20037
supportedLDAPVersion: 3" "ldap server: the root DSE before TLS lists StartTLS"
timeout 30 ldapsearch -x -LLL -H "ldap://127.0.0.1:$ld_plain" -b '' -s base \
    supportedExtension >"$T/out" 2>&1
! grep -q 1.3.6.1.4.1.1466.20037 "$T/out"
ok $? "ldap server: (the plaintext slapd's own root DSE does not)"
timeout 30 ldapsearch -x -LLL -H "ldap://127.0.0.1:$port_lds" -b '' \
    -s one >"$T/out" 2>"$T/ldap.err"
[ $? -ne 0 ] && grep -q 'Confidentiality required (13)' "$T/ldap.err"
ok $? "ldap server: a one-level search of \"\" is refused before StartTLS"
timeout 30 openssl s_client -starttls ldap -connect "127.0.0.1:$port_lds" \
    -verify_return_error -CAfile "$PKI/ca.pem" -servername localhost \
    </dev/null >"$T/out" 2>"$T/err"
rc=$?
grep -q 'Verify return code: 0 (ok)' "$T/out"
is "$rc/$?" "0/0" "ldap server: openssl s_client -starttls ldap verifies"
timeout 30 gnutls-cli --starttls-proto=ldap --x509cafile "$PKI/ca.pem" \
    -p "$port_lds" localhost </dev/null >"$T/out" 2>"$T/err"
rc=$?
grep -q 'Handshake was completed' "$T/out" "$T/err"
is "$rc/$?" "0/0" "ldap server: gnutls-cli --starttls-proto=ldap completes the handshake"

start_relay ldap "${SRV[@]}" -p ldap --allow-plain listen:127.0.0.1:0 "127.0.0.1:$ld_plain"
out=$(timeout 30 ldapwhoami "${ADMIN[@]}" -H "ldap://127.0.0.1:$port_ldap" 2>"$T/ldap.err")
is "$?/$out" "0/dn:cn=admin,dc=example,dc=org" \
    "ldap server --allow-plain: a bind without TLS reaches slapd"

start_relay lddead "${SRV[@]}" -p ldap listen:127.0.0.1:0 "127.0.0.1:$dead"
timeout 30 ldapwhoami -ZZ "${ADMIN[@]}" -H "ldap://127.0.0.1:$port_lddead" \
    >"$T/out" 2>"$T/ldap.err"
[ $? -ne 0 ] && grep -q 'Server is unavailable (52)' "$T/ldap.err"
ok $? "ldap server: a dead backend: a Notice of Disconnection (unavailable)"
unset LDAPTLS_CACERT LDAPTLS_REQCERT

# Injection, server role: a request pipelined behind the switch request
# ends the session and never reaches the backend.
python3 - "$port_pgs" "$port_lds" >"$T/inject.out" 2>&1 <<'PY'
import socket, struct, sys
def tlv(t, v):
    return bytes([t, len(v)]) + v
ssl_request = struct.pack(">ii", 8, 80877103)
params = b"user\0injected\0database\0postgres\0\0"
startup = struct.pack(">ii", 8 + len(params), 196608) + params
starttls = tlv(0x30, tlv(2, b"\1") + tlv(0x77, tlv(0x80, b"1.3.6.1.4.1.1466.20037")))
bind = tlv(0x30, tlv(2, b"\2") + tlv(0x60, tlv(2, b"\3") +
           tlv(4, b"cn=injected,dc=example,dc=org") + tlv(0x80, b"x")))
for port, payload in ((sys.argv[1], ssl_request + startup),
                      (sys.argv[2], starttls + bind)):
    s = socket.create_connection(("127.0.0.1", int(port)), timeout=20)
    s.sendall(payload)
    while s.recv(4096):
        pass
PY
wait_for_line "$T/pgs.err" 'injection' 10
ok $? "postgres server: a StartupMessage behind SSLRequest: injection, logged"
! grep -q injected "$T/pgplain/log"
ok $? "postgres server: and it never reached the backend"
wait_for_line "$T/lds.err" 'injection' 10
ok $? "ldap server: a Bind behind StartTLS: injection, logged"
! grep -q injected "$T/ldplain/log"
ok $? "ldap server: and it never reached slapd"

# Client role against scripted servers: TLS after the switch, and the
# hostile ones.
for proto in postgres ldap; do
	start_peer fb starttls "$proto" ok "$PKI/good.pem" "$PKI/good.key"
	rm -f "$T/out"
	{ echo hello; wait_for_line "$T/out" '^hello' 20; } |
	    timeout 30 "$RELAY" -p "$proto" "${CA[@]}" "localhost:$port_fb" \
	    >"$T/out" 2>"$T/err"
	rc=$?
	is "$rc/$(tr '\n' ' ' <"$T/out")" "0/tls-ok hello " \
	    "$proto client: the plain side talks inside TLS"
	for mode in refuse inject inject-later; do
		start_peer fb starttls "$proto" "$mode" "$PKI/good.pem" "$PKI/good.key"
		printf 'x\n' | timeout 30 "$RELAY" -p "$proto" "${CA[@]}" \
		    "localhost:$port_fb" >"$T/out" 2>"$T/err"
		rc=$?
		case $mode in
		refuse) re='does not offer' ;;
		*) re='injection' ;;
		esac
		if [ $rc -eq 4 ] && grep -Eq "$re" "$T/err" &&
		    ! grep -q INJECTED "$T/out"; then
			ok 0 "$proto client $mode: status 4, said why, nothing forged relayed"
		else
			ok 1 "$proto client $mode: status 4 (got $rc), said why, nothing forged relayed"
			sed 's/^/# /' "$T/err"
		fi
	done
done
finish
