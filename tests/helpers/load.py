#!/usr/bin/env python3
"""Load and fault helpers for the listen-mode tests (loopback only, every
loop bounded).

  load.py concurrent PORT CAFILE N SIZE   N TLS sessions at once, each echoes
                                          SIZE distinct bytes; prints 'ok N'
  load.py flood                           backend: prints its port, writes to
                                          its first client until writes have
                                          been blocked 2 s (or 1 GiB), prints
                                          the bytes written, exits
  load.py stall PORT CAFILE               TLS client that never reads: does
                                          the handshake, then waits for EOF
                                          on stdin
  load.py hold PORT CAFILE                TLS session that echoes one line,
                                          then holds until stdin says 'close'
"""
import asyncio
import os
import select
import socket
import ssl
import sys


def context(cafile):
    ctx = ssl.create_default_context(cafile=cafile)
    ctx.check_hostname = True
    return ctx


async def one(port, ctx, i, size):
    payload = (b"%08d" % i) * (size // 8)
    reader, writer = await asyncio.open_connection(
        "127.0.0.1", port, ssl=ctx, server_hostname="localhost")
    writer.write(payload)
    await writer.drain()
    got = await reader.readexactly(len(payload))
    writer.close()
    try:
        await writer.wait_closed()
    except (ssl.SSLError, ConnectionError):
        pass
    return got == payload


async def concurrent(port, cafile, n, size):
    ctx = context(cafile)
    results = await asyncio.wait_for(
        asyncio.gather(*(one(port, ctx, i, size) for i in range(n)),
                       return_exceptions=True), 120)
    good = sum(1 for r in results if r is True)
    for r in results:
        if r is not True:
            print("# session failed:", repr(r), file=sys.stderr)
            break
    print("ok", good, flush=True)


def flood():
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(1)
    print(srv.getsockname()[1], flush=True)
    conn, _ = srv.accept()
    conn.setblocking(False)
    chunk = b"x" * 65536
    total = 0
    while total < (1 << 30):
        _, w, _ = select.select([], [conn], [], 2.0)
        if not w:
            break
        try:
            total += conn.send(chunk)
        except BlockingIOError:
            continue
        except OSError:
            break
    print(total, flush=True)
    sys.stdin.read()


def stall(port, cafile):
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    raw.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    tls = context(cafile).wrap_socket(raw, server_hostname="localhost")
    print("connected", flush=True)
    sys.stdin.read()
    tls.close()


def hold(port, cafile):
    raw = socket.create_connection(("127.0.0.1", port), timeout=30)
    tls = context(cafile).wrap_socket(raw, server_hostname="localhost")
    tls.sendall(b"ping\n")
    got = b""
    while not got.endswith(b"\n"):
        data = tls.recv(100)
        if not data:
            break
        got += data
    print("echoed" if got == b"ping\n" else "bad echo %r" % got, flush=True)
    for line in sys.stdin:
        if line.strip() == "close":
            break
    tls.unwrap()  # close_notify, then the relay's: a clean end
    tls.close()


def main():
    cmd = sys.argv[1]
    if cmd == "concurrent":
        asyncio.run(concurrent(int(sys.argv[2]), sys.argv[3],
                               int(sys.argv[4]), int(sys.argv[5])))
    elif cmd == "flood":
        flood()
    elif cmd == "stall":
        stall(int(sys.argv[2]), sys.argv[3])
    elif cmd == "hold":
        hold(int(sys.argv[2]), sys.argv[3])
    else:
        sys.exit("unknown command " + cmd)


if __name__ == "__main__":
    main()
