#!/bin/bash
# The default priority, with an RSA certificate: forward secrecy only (no
# static RSA key exchange in either role); the server role's own order,
# AEAD with ECDHE first, AES-GCM ahead of ChaCha20, X25519 first.
. "${top_srcdir:-$(dirname "$0")/..}/tests/lib.sh"
require gnutls-cli openssl python3 certtool
plan 9
make_pki
rsa_cert rsa

start_peer echo echo
start_relay srv -s --cert "$PKI/rsa.pem" --key "$PKI/rsa.key" \
    listen:127.0.0.1:0 "127.0.0.1:$port_echo"

# s_client ARGS...: a handshake with the relay; output in $T/sc.
s_client() {
	timeout 10 openssl s_client -CAfile "$PKI/ca.pem" \
	    -verify_return_error -connect "127.0.0.1:$port" "$@" \
	    </dev/null >"$T/sc" 2>&1
}

# 1. Server role: a client offering only static RSA is refused, an ECDHE
#    one is not.
s_client -tls1_2 -cipher AES128-GCM-SHA256
ok $((! $?)) "server role: s_client with static RSA only (AES128-GCM-SHA256) is refused"
timeout 10 gnutls-cli --priority 'NORMAL:-VERS-ALL:+VERS-TLS1.2:-KX-ALL:+RSA' \
    --x509cafile "$PKI/ca.pem" -p "$port" localhost </dev/null >"$T/gc" 2>&1
ok $((! $?)) "server role: gnutls-cli with static RSA only (-KX-ALL:+RSA) is refused"
s_client -tls1_2 -cipher ECDHE-RSA-AES128-GCM-SHA256
is "$?/$(sed -n 's/.*Cipher is //p' "$T/sc")" 0/ECDHE-RSA-AES128-GCM-SHA256 \
    "server role: s_client with ECDHE-RSA-AES128-GCM-SHA256 gets it"

# 2. The server's order, not the client's.
s_client -tls1_2 -cipher \
    ECDHE-RSA-CHACHA20-POLY1305:DHE-RSA-AES256-GCM-SHA384:ECDHE-RSA-AES128-GCM-SHA256
is "$?/$(sed -n 's/.*Cipher is //p' "$T/sc")" 0/ECDHE-RSA-AES128-GCM-SHA256 \
    "TLS 1.2: a client preferring ChaCha20, then DHE, gets ECDHE with AES-128-GCM"
s_client -tls1_3 -ciphersuites \
    TLS_CHACHA20_POLY1305_SHA256:TLS_AES_256_GCM_SHA384:TLS_AES_128_GCM_SHA256
is "$?/$(sed -n 's/.*Cipher is //p' "$T/sc")" 0/TLS_AES_128_GCM_SHA256 \
    "TLS 1.3: a client preferring ChaCha20 gets AES-128-GCM"
# s_client sends an X25519 key share only: the server's own order must not
# cost it a HelloRetryRequest (another round trip) for P-256.
s_client -tls1_3 -msg
is "$?/$(grep -c '<<< .*ServerHello' "$T/sc")/$(sed -n 's/^Server Temp Key: //p' "$T/sc")" \
    "0/1/X25519, 253 bits" "TLS 1.3: X25519 in one round trip, without HelloRetryRequest"

# 3. Client role: s_server that accepts only static RSA finds no cipher
#    in common with the relay.  (Its input stays open until the relay is
#    done: at end of input it closes.)
sport=$(free_port)
openssl s_server -tls1_2 -cipher AES128-GCM-SHA256 -accept "127.0.0.1:$sport" \
    -cert "$PKI/rsa.pem" -key "$PKI/rsa.key" -naccept 1 \
    < <(wait_for_line "$T/cli.err" 'TLS (established|handshake failed)' 10) \
    >"$T/ss" 2>&1 &
spid=$!
bg_pids="$bg_pids $spid"
wait_for_port "$sport" || bail "s_server did not start"
timeout 10 "$RELAY" -v --cafile "$PKI/ca.pem" "localhost:$sport" </dev/null \
    >"$T/cli.out" 2>"$T/cli.err"
is "$?" 5 "client role: the handshake with a static-RSA-only server fails"
wait_pid "$spid" 10
grep -q 'no shared cipher' "$T/ss"
ok $? "client role: s_server found no shared cipher (the relay offers no static RSA)"
grep -q 'handshake failed' "$T/cli.err"
ok $? "client role: the relay says the handshake failed"
finish
