#!/bin/sh
# A whole STARTTLS session on loopback, with nothing but this program and
# the shell:
#
#   mail client --plain--> client role ==STARTTLS==> server role --plain--> backend
#   (printf)                (-p smtp)                 (-s -p smtp)           (a shell loop)
#
# The backend is a plaintext SMTP server that knows nothing of TLS; the
# server role puts STARTTLS in front of it with a throwaway certificate
# (--self-signed), and the client role, whose plain side is a scripted mail
# client, asks for the switch and pins that certificate (--insecure --pin:
# the pin instead of a CA).
set -eu

relay=${RELAY:-./starttls-relay}
dir=$(mktemp -d)
server=
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM
cr=$(printf '\r')

# The backend: SMTP in clear text on its stdin and stdout, each line it
# reads also written to backend.log.
backend() {
	printf '220 backend.demo ESMTP (a shell loop, no TLS)\r\n'
	while IFS= read -r line; do
		line=${line%"$cr"}
		printf '%s\n' "$line" >>"$dir/backend.log"
		case $line in
		EHLO*|HELO*)	printf '250-backend.demo\r\n250 8BITMIME\r\n' ;;
		MAIL*|RCPT*)	printf '250 ok\r\n' ;;
		DATA)
			printf '354 go ahead\r\n'
			while IFS= read -r line && [ "${line%"$cr"}" != . ]; do
				printf '%s\n' "${line%"$cr"}" >>"$dir/backend.log"
			done
			printf '.\n' >>"$dir/backend.log"
			printf '250 queued\r\n' ;;
		QUIT)		printf '221 bye\r\n'; return ;;
		*)		printf '500 unknown command\r\n' ;;
		esac
	done
}

mkfifo "$dir/to-backend" "$dir/from-backend"
# Opened in the same order on both ends: a FIFO's open waits for its peer.
backend >"$dir/from-backend" <"$dir/to-backend" &
echo "== server role: starttls-relay -v -s -p smtp --self-signed listen:127.0.0.1:0 - (the backend on its stdio)"
"$relay" -v -s -p smtp --self-signed listen:127.0.0.1:0 - \
    <"$dir/from-backend" >"$dir/to-backend" 2>"$dir/server.err" &
server=$!

# Wait (at most 10 s) for the port and the certificate's pin.
i=0
until grep -q 'listening on' "$dir/server.err" 2>/dev/null; do
	i=$((i + 1))
	[ $i -le 100 ] || { cat "$dir/server.err"; exit 1; }
	sleep 0.1
done
port=$(sed -n 's/.*listening on 127\.0\.0\.1:\([0-9]*\).*/\1/p' "$dir/server.err")
pin=$(sed -n 's/.*--pin=\(sha256:[^ ]*\).*/\1/p' "$dir/server.err")

echo "== client role: starttls-relay -v -p smtp --insecure --pin=$pin 127.0.0.1:$port"
status=0
printf '%s\r\n' 'EHLO client.demo' 'MAIL FROM:<alice@client.demo>' \
    'RCPT TO:<bob@backend.demo>' DATA 'Subject: demo' '' \
    'This line crossed the loopback inside TLS.' . QUIT |
    "$relay" -v -p smtp --insecure --pin="$pin" "127.0.0.1:$port" \
    >"$dir/client.out" 2>"$dir/client.err" || status=$?
wait $server
server=

echo "-- the client role's log (the clear-text opening, then TLS):"
cat "$dir/client.err"
echo "-- what the mail client saw (the greeting, then its session inside TLS):"
tr -d '\r' <"$dir/client.out"
echo "-- the server role's log:"
cat "$dir/server.err"
echo "-- what the plaintext backend received:"
cat "$dir/backend.log"
echo "== client role exit status: $status"
exit $status
