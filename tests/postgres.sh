#!/bin/bash
# PostgreSQL as people run it: a SCRAM user (the default since 14), query
# cancels (a CancelRequest in clear text on a new connection) from psql and
# psycopg2, and PostgreSQL 17's direct TLS (a ClientHello first, ALPN
# "postgresql").  PostgreSQL 15 from private configs in $T.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
PGBIN=/usr/lib/postgresql/15/bin
PATH=$PATH:$PGBIN
# Debian's python3-psycopg2 is for Debian's python3.
PY=/usr/bin/python3
require initdb postgres psql certtool "$PY"
"$PY" -c 'import psycopg2' 2>/dev/null ||
    { [ "${CI:-}" != true ] || bail "python3-psycopg2 is missing"; echo "1..0 # SKIP no psycopg2"; exit 0; }
plan 15
make_pki
chmod 755 "$T"
as_pg=()
[ "$(id -u)" != 0 ] || as_pg=(runuser -u postgres --)

# start_pg NAME on|off: trust for user postgres, SCRAM for user "scram"
# (password "secret"); "on": TLS connections only.  Sets pg_port.
start_pg() {
	local d=$T/$1 kind=host
	mkdir -p "$d"
	cp "$PKI/good.pem" "$PKI/good.key" "$d/"
	[ "$(id -u)" != 0 ] || chown -R postgres "$d"
	chmod 600 "$d/good.key"
	"${as_pg[@]}" initdb -D "$d/data" -A trust -U postgres --no-sync \
	    >"$d/initdb.log" 2>&1 || bail "initdb failed: $(cat "$d/initdb.log")"
	[ "$2" = off ] || kind=hostssl
	printf '%s all scram 127.0.0.1/32 scram-sha-256\n%s all postgres 127.0.0.1/32 trust\nlocal all all trust\n' \
	    "$kind" "$kind" >"$d/data/pg_hba.conf"
	pg_port=$(free_port)
	bg "${as_pg[@]}" postgres -D "$d/data" -p "$pg_port" \
	    -c listen_addresses=127.0.0.1 -c unix_socket_directories="$d" \
	    -c ssl="$2" -c ssl_cert_file="$d/good.pem" \
	    -c ssl_key_file="$d/good.key" -c fsync=off \
	    -c log_connections=on -c logging_collector=off \
	    -c log_destination=stderr 2>"$d/log"
	wait_for_line "$d/log" 'ready to accept connections' 30 ||
	    bail "postgres $1 did not start: $(cat "$d/log")"
	"${as_pg[@]}" psql -X -q -h "$d" -p "$pg_port" -U postgres -d postgres \
	    -c "create user scram password 'secret'" >/dev/null ||
	    bail "cannot create the SCRAM user"
}

start_pg plain off
pg_plain=$pg_port
start_pg tls on
pg_tls=$pg_port
PSQL=(timeout 30 psql -X -A -t -v ON_ERROR_STOP=1)

# Server role: TLS clients in front of the plaintext server.
start_relay pgs -s --cert "$PKI/good.pem" --key "$PKI/good.key" \
    -p postgres listen:127.0.0.1:0 "127.0.0.1:$pg_plain"
conn="host=localhost port=$port_pgs dbname=postgres sslmode=verify-full sslrootcert=$PKI/ca.pem"
out=$(PGPASSWORD=secret "${PSQL[@]}" "$conn user=scram" -c 'select 6 * 7' 2>&1)
is "$out" 42 "server role: a SCRAM login with psql sslmode=verify-full"

# A cancel: psycopg2's cancel() while pg_sleep(20) runs.
"$PY" - "$conn user=postgres" >"$T/cancel.out" 2>&1 <<'PY' &
import sys, threading, time, psycopg2
c = psycopg2.connect(sys.argv[1])
pid = c.get_backend_pid()
def cancel():
    # Once the backend runs the query (seen from a second connection).
    w = psycopg2.connect(sys.argv[1]); w.autocommit = True
    cur = w.cursor()
    for _ in range(400):
        cur.execute("select state from pg_stat_activity where pid = %s", (pid,))
        if cur.fetchone()[0] == 'active':
            c.cancel()
            return
        time.sleep(0.05)
    print("the query never ran")
threading.Thread(target=cancel).start()
try:
    c.cursor().execute("select pg_sleep(20)")
    print("not cancelled")
except psycopg2.errors.QueryCanceled as e:
    print("cancelled" if "due to user request" in str(e) else e)
PY
wait_pid $! 40
is "$(cat "$T/cancel.out")" cancelled "server role: psycopg2 cancel() cancels the query"
grep -q 'C: CancelRequest (forwarded to the backend)' "$T/pgs.err"
ok $? "server role: -v shows the CancelRequest forwarded"

# psql's Ctrl-C: SIGINT once the query runs.
PGCONNECT_TIMEOUT=10 psql -X -A -t "$conn user=postgres" \
    -c 'select pg_sleep(20)' >"$T/psql.out" 2>"$T/psql.err" &
ppid=$!
# Bounded poll: until the backend runs it (SIGINT before would end psql).
i=0
while [ $i -lt 400 ]; do
	n=$("${PSQL[@]}" -h "$T/plain" -p "$pg_plain" -U postgres -d postgres \
	    -c "select count(*) from pg_stat_activity where query = 'select pg_sleep(20)' and state = 'active'" 2>/dev/null)
	[ "$n" = 1 ] && break
	i=$((i + 1))
	sleep 0.05
done
[ "$n" = 1 ] || diag "psql's query never ran"
kill -INT $ppid
wait_pid $ppid 40
grep -q 'canceling statement due to user request' "$T/psql.err"
ok $? "server role: Ctrl-C in psql cancels the query"
# A CancelRequest is 16 bytes and nothing else: more is refused.
"$PY" - "$port_pgs" <<'PY' >"$T/bad.out" 2>&1
import socket, struct, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
s.sendall(struct.pack("!iiii", 16, 80877102, 1, 2) + b"SELECT 1")
print(repr(s.recv(100)))
PY
grep -q "b''" "$T/bad.out"
ok $? "server role: a CancelRequest with bytes behind it is dropped"
wait_for_line "$T/pgs.err" '8 bytes from the client after a CancelRequest: dropped' 10
ok $? "server role: and the relay says why"

# Direct TLS (PostgreSQL 17): a ClientHello first, ALPN "postgresql".
direct() {	# ALPN: prints the first message type after the startup
	"$PY" - "$port_pgs" "$PKI/ca.pem" "$1" <<'PY'
import socket, ssl, struct, sys
ctx = ssl.create_default_context(cafile=sys.argv[2])
if sys.argv[3]:
    ctx.set_alpn_protocols([sys.argv[3]])
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=10)
try:
    t = ctx.wrap_socket(s, server_hostname="localhost")
except (ssl.SSLError, OSError) as e:
    print("handshake failed:", e)
    sys.exit(0)
body = struct.pack("!i", 196608) + b"user\0postgres\0database\0postgres\0\0"
t.sendall(struct.pack("!i", len(body) + 4) + body)
r = t.recv(1)
print(r.decode() if r else "closed", t.selected_alpn_protocol())
PY
}
is "$(direct postgresql)" "R postgresql" "server role: direct TLS with ALPN postgresql logs in"
grep -q 'C: a TLS ClientHello (direct TLS' "$T/pgs.err"
ok $? "server role: -v shows the direct TLS"
# Refused in the handshake, with the alert for it (no_application_protocol).
out=$(direct "")
case $out in "handshake failed"*"alert no application protocol"*) r=0 ;; *) r=1 ;; esac
ok $r "server role: direct TLS without ALPN postgresql is refused"
[ $r = 0 ] || diag "$out"
out=$(direct http/1.1)
case $out in "handshake failed"*"alert no application protocol"*) r=0 ;; *) r=1 ;; esac
ok $r "server role: direct TLS with another ALPN is refused"
[ $r = 0 ] || diag "$out"

# Client role: plain clients, a server that takes TLS only.
start_relay pgc -p postgres --cafile "$PKI/ca.pem" --servername localhost \
    "127.0.0.1:$pg_tls" listen:127.0.0.1:0
conn="host=127.0.0.1 port=$port_pgc dbname=postgres sslmode=disable"
out=$(PGPASSWORD=secret "${PSQL[@]}" "$conn user=scram" \
    -c 'select ssl from pg_stat_ssl where pid = pg_backend_pid()' 2>&1)
is "$out" t "client role: a SCRAM login with psql sslmode=disable, over TLS"
out=$(PGPASSWORD=secret "$PY" -c '
import sys, psycopg2
c = psycopg2.connect(sys.argv[1])
cur = c.cursor(); cur.execute("select 6 * 7"); print(cur.fetchone()[0])' \
    "$conn user=scram" 2>&1)
is "$out" 42 "client role: a SCRAM login with psycopg2"
grep -q 'SASL mechanisms withheld from the plain client .*: SCRAM-SHA-256-PLUS$' "$T/pgc.err"
ok $? "client role: -v says the -PLUS mechanism was withheld from the plain client"
grep -q 'S: AuthenticationOk' "$T/pgc.err"
ok $? "client role: and that it read the login to its end"
grep -q 'connection authorized: user=scram.*SSL enabled' "$T/tls/log"
ok $? "client role: the server saw the SCRAM login over TLS"
finish
