# Shared by the integration tests: TAP output, a private temp dir, bounded
# waits, throwaway certificates, and the peers' availability.
# Sourced by bash scripts run by Automake's TAP driver.

set -u

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${RELAY:=$top_builddir/starttls-relay}"

T=$(mktemp -d "${TMPDIR:-/tmp}/starttls-relay-test.XXXXXX")
tap_n=0
tap_failed=0
bg_pids=""

cleanup() {
	for p in $bg_pids; do
		kill "$p" 2>/dev/null
	done
	for p in $bg_pids; do
		wait "$p" 2>/dev/null
	done
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM

plan() { echo "1..$1"; }

ok() {	# ok COND-STATUS DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ]; then
		echo "ok $tap_n - $2"
	else
		echo "not ok $tap_n - $2"
		tap_failed=1
	fi
}

is() {	# is GOT EXPECTED DESCRIPTION
	tap_n=$((tap_n + 1))
	if [ "$1" = "$2" ]; then
		echo "ok $tap_n - $3"
	else
		echo "not ok $tap_n - $3"
		echo "# got:      '$1'"
		echo "# expected: '$2'"
		tap_failed=1
	fi
}

# A check that cannot run here skips, but fails in CI (as require does).
skip() {
	if [ "${CI:-}" = true ]; then
		ok 1 "$1 (CI must be able to run it)"
	else
		tap_n=$((tap_n + 1))
		echo "ok $tap_n # SKIP $1"
	fi
}
diag() { echo "# $*"; }
bail() { echo "Bail out! $*"; exit 1; }

# A test whose peer is missing skips here but fails in CI.
require() {
	for cmd in "$@"; do
		if ! command -v "$cmd" >/dev/null 2>&1; then
			if [ "${CI:-}" = true ]; then
				bail "$cmd is missing (CI must install it)"
			fi
			echo "1..0 # SKIP $cmd is not installed"
			exit 0
		fi
	done
}

# Run in the background, remembered for cleanup.
bg() { "$@" & bg_pids="$bg_pids $!"; }

# wait_until SECONDS CMD...: poll CMD until it succeeds; bounded by the
# clock and, should a poll hang on its own, by the number of polls.
wait_until() {
	local n=$(( $1 * 20 )) end=$(( SECONDS + $1 + 1 ))
	shift
	until "$@"; do
		n=$((n - 1))
		[ $n -gt 0 ] && [ $SECONDS -lt $end ] || return 1
		sleep 0.05
	done
}

# wait_for_line FILE REGEX [SECONDS]: until a line matches.
wait_for_line() {
	wait_until "${3:-10}" grep -Eq -- "$2" "$1" 2>/dev/null ||
	    { diag "timed out waiting for /$2/ in $1"; return 1; }
}

# The conditions polled for.
has_count() { [ "$(grep -Ec -- "$2" "$1" 2>/dev/null)" -ge "$3" ]; }
has_lines() { [ "$(wc -l <"$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
has_size() { [ "$(stat -c %s "$1" 2>/dev/null || echo 0)" -ge "$2" ]; }
is_gone() { ! kill -0 "$1" 2>/dev/null; }

# wait_for_count FILE REGEX N [SECONDS]: until N lines match.
wait_for_count() {
	wait_until "${4:-10}" has_count "$1" "$2" "$3" ||
	    { diag "timed out waiting for $3 lines /$2/ in $1"; return 1; }
}

# wait_for_lines FILE N [SECONDS]: until FILE has N whole lines.
wait_for_lines() {
	wait_until "${3:-10}" has_lines "$1" "$2" ||
	    { diag "timed out waiting for $2 lines in $1"; return 1; }
}

# wait_for_size FILE BYTES [SECONDS]: until FILE has BYTES.
wait_for_size() {
	wait_until "${3:-10}" has_size "$1" "$2" ||
	    { diag "timed out waiting for $2 bytes in $1"; return 1; }
}

# is_listening PORT: some socket listens on that TCP port (asked of the
# kernel, so that one-shot servers do not see a probe connection).
is_listening() { [ -n "$(ss -Hltn "sport = :$1")" ]; }

# wait_for_port PORT [SECONDS]: until something listens there.
wait_for_port() {
	wait_until "${2:-10}" is_listening "$1" ||
	    { diag "timed out waiting for port $1"; return 1; }
}

# start_peer NAME MODE ARGS...: tests/helpers/peer.py MODE ARGS in the
# background, once it listens; sets pport and port_NAME.
start_peer() {
	local name=$1
	shift
	rm -f "$T/$name.port"	# or the wait could read an earlier peer's
	bg python3 "$top_srcdir/tests/helpers/peer.py" "$@" >"$T/$name.port"
	wait_for_line "$T/$name.port" '^[0-9]+$' || bail "peer $name ($1) did not start"
	pport=$(cat "$T/$name.port")
	eval "port_${name//-/_}=$pport"
}

# A port nobody listens on now (the kernel picks it).
free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'
}

# dead_port: a port bound but not listening, held so for the test (at most
# ten minutes): connecting is refused, and nothing else can take it, as a
# port that was only free when asked could be by then.
dead_port() {
	local f=$T/dead.$RANDOM
	python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0))
print(s.getsockname()[1], flush=True); time.sleep(600)' >"$f" &
	bg_pids="$bg_pids $!"
	wait_for_line "$f" '^[0-9]+$' >/dev/null || bail "no dead port"
	cat "$f"
}

# The port a -v relay logged ("listening on HOST:PORT").
listen_port() { sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' "$1" | head -n 1; }

# start_relay NAME ARGS...: "$RELAY" -v ARGS in the background, logging to
# $T/NAME.err, once it listens; sets rpid, port and port_NAME.
start_relay() {
	local name=$1
	shift
	"$RELAY" -v "$@" 2>"$T/$name.err" &
	rpid=$!
	bg_pids="$bg_pids $rpid"
	wait_for_line "$T/$name.err" 'listening on' || bail "relay $name did not start"
	port=$(listen_port "$T/$name.err")
	eval "port_${name//-/_}=$port"
}

# in_tls LINES...: the lines, then stdin held open until $T/out matches
# $until (the peers end the session when their stdin does).
in_tls() {
	printf '%s\r\n' "$@"
	wait_for_line "$T/out" "$until" 20
}

# client_run TOOL PROTO PORT LINES...: openssl s_client or gnutls-cli
# with STARTTLS to 127.0.0.1:PORT, verifying against $PKI/ca.pem; output
# in $T/out and $T/err, the tool's status in rc.
client_run() {
	local tool=$1 proto=$2 port=$3
	shift 3
	rm -f "$T/out"
	if [ "$tool" = s_client ]; then
		in_tls "$@" | timeout 30 openssl s_client -quiet -starttls "$proto" \
		    -verify_return_error -CAfile "$PKI/ca.pem" -servername localhost \
		    -connect "127.0.0.1:$port" >"$T/out" 2>"$T/err"
	else
		in_tls "$@" | timeout 30 gnutls-cli --starttls-proto="$proto" \
		    --x509cafile "$PKI/ca.pem" --logfile "$T/gcli.log" -p "$port" \
		    localhost >"$T/out" 2>"$T/err"
	fi
	rc=${PIPESTATUS[1]}
}

# wait_pid PID SECONDS: the exit status of a background process, or 124.
wait_pid() {
	if ! wait_until "$2" is_gone "$1"; then
		kill "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}

sha() { sha256sum "$1" | cut -d' ' -f1; }

# random_file PATH MIB
random_file() { head -c "$(( $2 * 1024 * 1024 ))" /dev/urandom >"$1"; }

# Certificates in $T/pki: a CA; server certificates for localhost and
# 127.0.0.1 (good), for another name (wrong), expired, not yet valid; a
# client certificate; a self-signed server certificate.
make_pki() {
	local d=$T/pki
	mkdir -p "$d"
	cert_tmpl() {	# NAME LINES...
		local n=$1; shift
		printf '%s\n' "$@" >"$d/$n.tmpl"
		certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
		    --outfile "$d/$n.key" >/dev/null 2>&1
	}
	cert_tmpl ca 'cn = "starttls-relay test CA"' ca cert_signing_key \
	    'expiration_days = 30'
	certtool --generate-self-signed --load-privkey "$d/ca.key" \
	    --template "$d/ca.tmpl" --outfile "$d/ca.pem" >/dev/null 2>&1
	cert_tmpl good 'cn = "localhost"' 'dns_name = "localhost"' \
	    'ip_address = "127.0.0.1"' 'ip_address = "::1"' tls_www_server \
	    signing_key 'expiration_days = 30'
	cert_tmpl wrong 'cn = "wrong.example"' 'dns_name = "wrong.example"' \
	    tls_www_server signing_key 'expiration_days = 30'
	cert_tmpl expired 'cn = "localhost"' 'dns_name = "localhost"' \
	    'ip_address = "127.0.0.1"' tls_www_server signing_key \
	    'activation_date = "2020-01-01 00:00:00 UTC"' \
	    'expiration_date = "2020-02-01 00:00:00 UTC"'
	cert_tmpl future 'cn = "localhost"' 'dns_name = "localhost"' \
	    'ip_address = "127.0.0.1"' tls_www_server signing_key \
	    'activation_date = "2099-01-01 00:00:00 UTC"' \
	    'expiration_date = "2099-02-01 00:00:00 UTC"'
	cert_tmpl client 'cn = "test client"' tls_www_client signing_key \
	    'expiration_days = 30'
	for n in good wrong expired future client; do
		certtool --generate-certificate --load-privkey "$d/$n.key" \
		    --load-ca-certificate "$d/ca.pem" \
		    --load-ca-privkey "$d/ca.key" --template "$d/$n.tmpl" \
		    --outfile "$d/$n.pem" >/dev/null 2>&1 ||
		    bail "certtool failed for $n"
	done
	cert_tmpl self 'cn = "localhost"' 'dns_name = "localhost"' \
	    'ip_address = "127.0.0.1"' tls_www_server signing_key \
	    'expiration_days = 30'
	certtool --generate-self-signed --load-privkey "$d/self.key" \
	    --template "$d/self.tmpl" --outfile "$d/self.pem" >/dev/null 2>&1 ||
	    bail "certtool failed for self"
	PKI=$d
}

# rsa_cert NAME [DAYS]: after make_pki, an RSA 2048 server certificate for
# localhost and 127.0.0.1 from the test CA in $PKI/NAME.pem and NAME.key,
# with keyEncipherment as usual for RSA (static RSA key exchange needs it).
rsa_cert() {
	local d=$PKI n=$1
	printf '%s\n' 'cn = "localhost"' 'dns_name = "localhost"' \
	    'ip_address = "127.0.0.1"' tls_www_server signing_key \
	    encryption_key "expiration_days = ${2:-30}" >"$d/$n.tmpl"
	certtool --generate-privkey --key-type=rsa --bits=2048 \
	    --outfile "$d/$n.key" >/dev/null 2>&1 &&
	    certtool --generate-certificate --load-privkey "$d/$n.key" \
	    --load-ca-certificate "$d/ca.pem" --load-ca-privkey "$d/ca.key" \
	    --template "$d/$n.tmpl" --outfile "$d/$n.pem" >/dev/null 2>&1 ||
	    bail "certtool failed for $n"
}

# pin_of CERT: its --pin value.
pin_of() {
	certtool -i --infile "$1" 2>/dev/null |
	    sed -n 's/.*pin-sha256:\([A-Za-z0-9+/=]*\).*/sha256:\1/p' | head -n 1
}

# Exit with the TAP verdict.
finish() { exit $tap_failed; }
