"""Running the app with uvicorn, in one process or several.

`kb serve` checks the knowledge base, then becomes `python -m search_app.server HOST PORT
WORKERS` (exec): the process that watches over the workers holds uvicorn only (26 MB, not the
110 MB of the knowledge base it checked)."""

from __future__ import annotations

import os
import socket
import sys

import uvicorn

APP = "search_app:create_app"


def serve(host: str, port: int, workers: int) -> None:
    if workers == 1:
        uvicorn.run(APP, factory=True, host=host, port=port, log_level="info")
        return
    # Several processes on few cores: each does its numeric work on its own share of the cores,
    # instead of every process's thread pool spinning on all of them.
    os.environ.setdefault("OMP_NUM_THREADS", str(max(1, (os.cpu_count() or 1) // workers)))
    config = uvicorn.Config(APP, factory=True, host=host, port=port, workers=workers, log_level="info")
    # uvicorn binds a socket without IPPROTO_TCP, and asyncio then leaves Nagle's algorithm on for
    # every connection (a 40 ms stall per keep-alive response); bind it ourselves instead.
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    sock.listen(2048)
    sock.set_inheritable(True)
    from uvicorn.supervisors import Multiprocess

    Multiprocess(config, sockets=[sock]).run()


if __name__ == "__main__":
    serve(sys.argv[1], int(sys.argv[2]), int(sys.argv[3]))
