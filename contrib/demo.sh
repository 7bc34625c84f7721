#!/bin/sh
# A self-contained demo on loopback: the server role (TLS from the first byte,
# a throwaway certificate) talks to the client role, which pins that
# certificate (--insecure --pin: the pin instead of a CA).  Each side's plain end is a message on stdin and a file on
# stdout, so nothing but this program is needed.
set -eu

relay=${RELAY:-./starttls-relay}
dir=$(mktemp -d)
trap 'kill $server 2>/dev/null || true; rm -rf "$dir"' EXIT INT TERM

echo "== server role: starttls-relay -s --self-signed -v listen:127.0.0.1:0 -"
printf 'hello from the server side, over TLS\n' |
    "$relay" -s --self-signed -v listen:127.0.0.1:0 - \
    >"$dir/server.out" 2>"$dir/server.err" &
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

echo "== client role: starttls-relay -v --insecure --pin=$pin 127.0.0.1:$port"
printf 'hello from the client side, over TLS\n' |
    "$relay" -v --insecure --pin="$pin" "127.0.0.1:$port" \
    >"$dir/client.out" 2>"$dir/client.err"
wait $server

echo "-- client's log:";         cat "$dir/client.err"
echo "-- the client received:";  cat "$dir/client.out"
echo "-- server's log:";         cat "$dir/server.err"
echo "-- the server received:";  cat "$dir/server.out"
