#!/usr/bin/env python3
"""A wire tap in front of a real backend: what it was sent, written down.

  wiretap.py PORT FILE    forwards each connection to 127.0.0.1:PORT, both
                          ways, and appends every byte sent to that backend
                          to FILE

Prints its own port, then serves connections until killed.  Not a peer:
the backend answers, the tap only shows what reached it.
"""
import socket
import sys
import threading


def pump(src, dst, log):
    try:
        while True:
            data = src.recv(65536)
            if not data:
                break
            if log is not None:
                log.write(data)
            dst.sendall(data)
    except OSError:
        pass        # a side that resets ends both directions
    try:
        dst.shutdown(socket.SHUT_WR)
    except OSError:
        pass


def serve(client, port, path):
    try:
        backend = socket.create_connection(("127.0.0.1", port), timeout=20)
    except OSError:
        client.close()
        return
    backend.settimeout(None)
    with open(path, "ab", buffering=0) as log:
        back = threading.Thread(target=pump, args=(backend, client, None),
                                daemon=True)
        back.start()
        pump(client, backend, log)
        back.join(30)
    client.close()
    backend.close()


def main():
    port, path = int(sys.argv[1]), sys.argv[2]
    srv = socket.socket()
    srv.bind(("127.0.0.1", 0))
    srv.listen(16)
    print(srv.getsockname()[1], flush=True)
    for _ in range(1000):
        c, _ = srv.accept()
        threading.Thread(target=serve, args=(c, port, path),
                         daemon=True).start()


main()
