"""Interop check: python `websockets` client (compression on by default)
against an echo server. Sends 1000 messages — text with non-ASCII and
binary, 0 B to 1 MiB — and verifies every echo. Exit status 1 on failure."""
import asyncio
import sys

from websockets.asyncio.client import connect


def message(i):
    size = 1 << 20 if i % 50 == 0 else 0 if i % 50 == 1 else (i * 7919) % 70000
    if i % 2 == 0:
        unit = "Zürich → 東京 🚄 ".encode()
        # Cut at `size` octets, dropping a character the cut would split.
        return (unit * (size // len(unit) + 1))[:size].decode("utf-8", errors="ignore")
    return bytes((j * 31 + i) % 256 for j in range(size))


async def main(url):
    async with connect(url, max_size=64 * 2**20) as ws:
        ext = ws.response.headers.get("Sec-WebSocket-Extensions", "")
        if "permessage-deflate" not in ext:
            sys.exit(f"python_client: {url} did not negotiate permessage-deflate ({ext!r})")
        for i in range(1000):
            m = message(i)
            await ws.send(m)
            echo = await ws.recv()
            if echo != m:
                sys.exit(f"python_client: message {i}: echo differs")
    print(f"python_client: 1000/1000 echoes verified with {ext}")


asyncio.run(main(sys.argv[1]))
