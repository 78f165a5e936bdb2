"""Echo server on python `websockets`, a peer for verdict-agreement runs.

Usage: run HOST:PORT   (the `run` script beside this file installs websockets first)
"""
import asyncio
import sys

from websockets.asyncio.server import serve


async def echo(ws):
    try:
        async for message in ws:
            await ws.send(message)
    except Exception:
        pass


async def main(addr):
    host, port = addr.rsplit(":", 1)
    async with serve(echo, host, int(port), max_size=64 * 2**20, ping_interval=None):
        print(f"python-websockets echo server on ws://{addr}", file=sys.stderr)
        await asyncio.get_running_loop().create_future()


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1] if len(sys.argv) > 1 else "127.0.0.1:9001"))
