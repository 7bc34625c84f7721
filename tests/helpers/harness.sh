# Test harness for the integration tests, sourced after tests/lib.sh by
# tests/client-gnutls-serv.sh, client-openssl.sh, server-clients.sh,
# self.sh, inetd-tcpserver.sh and listen-load.sh.
#
# It defines everything those scripts use (so that they do not depend on
# the details of tests/lib.sh, which other tests share):
#   TAP:        plan ok is skip diag bail finish; require_peer; skip_or_fail
#   temp dir:   $T, removed at exit by a trap that first ends every process
#               the test started (every descendant of the test's shell)
#   waits:      wait_until, wait_for_line, wait_for_port, wait_for_size,
#               wait_pid, wait_gone (bounded, polling; never a bare sleep)
#   PKI:        make_pki (certtool, ECDSA P-256): CA, good, wrong, expired,
#               future, self; pin_of CERT
#   misc:       free_port, have_ipv6, sha, random_file, start_relay
#
# Only loopback addresses are ever used.  Every wait has a bound.

set -u
[ -n "${BASH_VERSION:-}" ] || { echo "Bail out! these tests need bash"; exit 1; }

: "${top_srcdir:=$(cd "$(dirname "$0")/.." && pwd)}"
: "${top_builddir:=$top_srcdir}"
: "${RELAY:=$top_builddir/starttls-relay}"
: "${PYTHON:=python3}"
HELPERS=$top_srcdir/tests/helpers
export LC_ALL=C

# The temp dir: tests/lib.sh may have made one already.
if [ -z "${T:-}" ] || [ ! -d "$T" ]; then
	T=$(mktemp -d "${TMPDIR:-/tmp}/starttls-relay-test.XXXXXX") ||
	    { echo "Bail out! mktemp failed"; exit 1; }
fi
tap_n=0
tap_failed=0
tap_planned=0
bg_pids=""

# descendants PID: the PIDs of every live process below PID (from /proc).
descendants() {
	awk -v root="$1" '
	    FNR == 1 {
		line = $0; pid = $1
		sub(/^.*\) /, "", line)	# the command name may hold spaces
		split(line, f, " ")
		parent[pid] = f[2]
	    }
	    END {
		want[root] = 1
		do {
			grew = 0
			for (p in parent)
				if (!(p in want) && (parent[p] in want)) {
					want[p] = 1; grew = 1
				}
		} while (grew)
		for (p in want) if (p != root) print p
	    }' /proc/[0-9]*/stat 2>/dev/null
}

# End every process this test started: TERM, a bounded grace, then KILL.
kill_all() {
	local pids i
	pids="$bg_pids $(descendants $$)"
	[ -n "${pids// /}" ] || return 0
	kill -TERM $pids 2>/dev/null
	for i in $(seq 40); do
		kill -0 $pids 2>/dev/null || break
		sleep 0.05
	done
	kill -KILL $pids 2>/dev/null
	return 0
}

cleanup() {
	trap - EXIT
	kill_all
	wait 2>/dev/null
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 1' INT TERM HUP

# --- TAP ---------------------------------------------------------------

plan() { tap_planned=$1; echo "1..$1"; }

ok() {	# ok STATUS DESCRIPTION: passes when STATUS is 0
	tap_n=$((tap_n + 1))
	if [ "$1" -eq 0 ] 2>/dev/null; then
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
		echo "#   got:      '$1'"
		echo "#   expected: '$2'"
		tap_failed=1
	fi
}

skip() { tap_n=$((tap_n + 1)); echo "ok $tap_n # SKIP $1"; }
diag() { echo "# $*"; }
bail() { echo "Bail out! $*"; exit 1; }

# show FILE [PREFIX]: a log as TAP comments (the last 20 lines).
show() { [ -f "$1" ] && tail -n 20 "$1" | sed "s|^|#   ${2:-}|"; return 0; }

# skip_or_fail N REASON: N skipped tests, or N failures when CI=true.
skip_or_fail() {
	local i
	for i in $(seq "$1"); do
		if [ "${CI:-}" = true ]; then
			tap_n=$((tap_n + 1))
			echo "not ok $tap_n - $2 (CI must provide it)"
			tap_failed=1
		else
			skip "$2"
		fi
	done
}

# require_peer CMD...: the peer programs a test needs.  Before plan: when
# one is missing, the whole script is skipped (a failure under CI=true).
# After plan, as `require_peer CMD... || skip_or_fail N REASON`: only says
# whether they are all there.
require_peer() {
	local cmd missing=""
	for cmd in "$@"; do
		command -v "$cmd" >/dev/null 2>&1 || missing="$missing $cmd"
	done
	[ -z "$missing" ] && return 0
	if [ "$tap_planned" -eq 0 ]; then
		if [ "${CI:-}" = true ]; then
			echo "1..1"
			echo "not ok 1 - missing:$missing (CI must install it)"
			exit 1
		fi
		echo "1..0 # SKIP missing:$missing"
		exit 0
	fi
	diag "missing:$missing"
	return 1
}

finish() {
	if [ "$tap_n" -ne "$tap_planned" ]; then
		diag "planned $tap_planned tests but ran $tap_n"
		tap_failed=1
	fi
	exit $tap_failed
}

# --- bounded waits -----------------------------------------------------

# wait_until SECONDS CMD...: poll CMD (every 50 ms) until it succeeds.
wait_until() {
	local limit=$(( $1 * 20 )) i=0
	shift
	until "$@"; do
		i=$((i + 1))
		[ $i -le $limit ] || return 1
		sleep 0.05
	done
}

# wait_for_line FILE REGEX [SECONDS]
wait_for_line() {
	wait_until "${3:-20}" grep -Eq -- "$2" "$1" 2>/dev/null ||
	    { diag "timed out waiting for /$2/ in $1"; return 1; }
}

# listening PORT: some socket listens on that TCP port (read from /proc, so
# that a one-shot server never sees a probe connection).
listening() {
	awk -v p="$(printf ':%04X' "$1")" '
	    $4 == "0A" && substr($2, length($2) - 4) == p { f = 1 }
	    END { exit !f }' /proc/net/tcp /proc/net/tcp6 2>/dev/null
}

# wait_for_port PORT [SECONDS] [PID]: until PORT listens (fails at once if
# PID, the server that should listen there, has died).
wait_for_port() {
	local limit=$(( ${2:-20} * 20 )) i=0
	until listening "$1"; do
		if [ -n "${3:-}" ] && ! kill -0 "$3" 2>/dev/null; then
			diag "the server for port $1 exited"
			return 1
		fi
		i=$((i + 1))
		[ $i -le $limit ] || { diag "timed out waiting for port $1"; return 1; }
		sleep 0.05
	done
}

fsize() { stat -c %s "$1" 2>/dev/null || echo 0; }
size_at_least() { [ "$(fsize "$1")" -ge "$2" ]; }

# wait_for_size FILE BYTES [SECONDS]
wait_for_size() {
	wait_until "${3:-60}" size_at_least "$1" "$2" ||
	    { diag "timed out waiting for $2 bytes in $1 (has $(fsize "$1"))"; return 1; }
}

# wait_pid PID SECONDS: the exit status of a child, or 124 after killing
# it when it outlives SECONDS.
wait_pid() {
	if ! wait_until "$2" eval "! kill -0 $1 2>/dev/null"; then
		diag "process $1 still runs after $2 s: killed"
		kill -TERM "$1" 2>/dev/null
		wait_until 2 eval "! kill -0 $1 2>/dev/null" || kill -KILL "$1" 2>/dev/null
		wait "$1" 2>/dev/null
		return 124
	fi
	wait "$1"
}

alive() { kill -0 "$1" 2>/dev/null; }

# --- misc ----------------------------------------------------------------

# A TCP port nobody listens on now (the kernel picks it; the caller must
# cope with losing a race for it, see start_on_free_port).
free_port() {
	"$PYTHON" -c 'import socket
s = socket.socket()
s.bind(("127.0.0.1", 0))
print(s.getsockname()[1])'
}

have_ipv6() {
	"$PYTHON" -c 'import socket
s = socket.socket(socket.AF_INET6)
s.bind(("::1", 0))' 2>/dev/null
}

sha() { sha256sum <"$1" | cut -d' ' -f1; }

# random_file PATH MIB
random_file() { head -c "$(( $2 * 1024 * 1024 ))" /dev/urandom >"$1"; }

# start_relay NAME ARGS...: "$RELAY" -v ARGS in the background, stderr in
# $T/NAME.err, stdin/stdout as the caller redirected them; waits for its
# "listening on" line.  Sets relay_pid and relay_port.
start_relay() {
	local name=$1
	shift
	relay_port=
	"$RELAY" -v "$@" 2>"$T/$name.err" &
	relay_pid=$!
	bg_pids="$bg_pids $relay_pid"
	# (stdout may be redirected by the caller: complaints go to stderr)
	if ! wait_until 20 grep -q 'listening on' "$T/$name.err"; then
		{ diag "relay $name did not listen:"; show "$T/$name.err"; } >&2
		return 1
	fi
	relay_port=$(sed -n 's/.*listening on .*:\([0-9][0-9]*\)$/\1/p' \
	    "$T/$name.err" | head -n 1)
	[ -n "$relay_port" ]
}

# The --pin a --self-signed relay printed in LOG.
printed_pin() { sed -n 's/.*--pin=\(sha256:[A-Za-z0-9+/=]*\).*/\1/p' "$1" | head -n 1; }

# --- certificates --------------------------------------------------------

# make_pki: in $T/pki (sets PKI): ca (a test CA); good (localhost, 127.0.0.1
# and ::1, signed by ca); wrong (wrong.example); expired; future (not yet
# valid); self (self-signed, localhost).  ECDSA P-256 keys: fast.
make_pki() {
	local d=$T/pki n
	mkdir -p "$d"
	_key() {
		certtool --generate-privkey --key-type=ecdsa --curve=secp256r1 \
		    --outfile "$d/$1.key" >/dev/null 2>&1 ||
		    bail "certtool cannot make a key"
	}
	_tmpl() { local n=$1; shift; printf '%s\n' "$@" >"$d/$n.tmpl"; }
	_key ca
	_tmpl ca 'cn = "starttls-relay test CA"' ca cert_signing_key \
	    'expiration_days = 30'
	certtool --generate-self-signed --load-privkey "$d/ca.key" \
	    --template "$d/ca.tmpl" --outfile "$d/ca.pem" >/dev/null 2>&1 ||
	    bail "certtool cannot make the CA"
	_tmpl good 'cn = "localhost"' 'dns_name = "localhost"' \
	    'ip_address = "127.0.0.1"' 'ip_address = "::1"' tls_www_server \
	    signing_key 'expiration_days = 30'
	_tmpl wrong 'cn = "wrong.example"' 'dns_name = "wrong.example"' \
	    tls_www_server signing_key 'expiration_days = 30'
	_tmpl expired 'cn = "localhost"' 'dns_name = "localhost"' \
	    'ip_address = "127.0.0.1"' tls_www_server signing_key \
	    'activation_date = "2020-01-01 00:00:00 UTC"' \
	    'expiration_date = "2020-02-01 00:00:00 UTC"'
	_tmpl future 'cn = "localhost"' 'dns_name = "localhost"' \
	    'ip_address = "127.0.0.1"' tls_www_server signing_key \
	    'activation_date = "2099-01-01 00:00:00 UTC"' \
	    'expiration_date = "2099-02-01 00:00:00 UTC"'
	for n in good wrong expired future; do
		_key $n
		certtool --generate-certificate --load-privkey "$d/$n.key" \
		    --load-ca-certificate "$d/ca.pem" \
		    --load-ca-privkey "$d/ca.key" --template "$d/$n.tmpl" \
		    --outfile "$d/$n.pem" >/dev/null 2>&1 ||
		    bail "certtool cannot make the $n certificate"
	done
	_key self
	_tmpl self 'cn = "localhost"' 'dns_name = "localhost"' \
	    'ip_address = "127.0.0.1"' tls_www_server signing_key \
	    'expiration_days = 30'
	certtool --generate-self-signed --load-privkey "$d/self.key" \
	    --template "$d/self.tmpl" --outfile "$d/self.pem" >/dev/null 2>&1 ||
	    bail "certtool cannot make the self-signed certificate"
	PKI=$d
}

# pin_of CERT: its --pin value, from certtool's "pin-sha256:" line.
pin_of() {
	certtool -i --infile "$1" 2>/dev/null |
	    sed -n 's/.*pin-sha256:\([A-Za-z0-9+/=]*\).*/sha256:\1/p' | head -n 1
}
