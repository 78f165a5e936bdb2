"""A fuzzing-server driver on python `websockets` (with permessage-deflate),
a client peer for verdict-agreement runs in fuzzingserver mode.

Usage: testee-client ws://HOST:PORT [AGENT]   (installs websockets first)
"""
import asyncio
import json
import sys
import urllib.parse

from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed


async def echo_case(url):
    try:
        async with connect(url, max_size=64 * 2**20, ping_interval=None) as ws:
            async for message in ws:
                await ws.send(message)
    except (ConnectionClosed, OSError):
        pass
    except Exception as e:  # a case the client fails on is judged by the server
        print(f"{url}: {e!r}", file=sys.stderr)


async def main(base, agent):
    async with connect(f"{base}/getCaseCount") as ws:
        count = json.loads(await ws.recv())
    quoted = urllib.parse.quote(agent, safe="")
    for n in range(1, count + 1):
        await echo_case(f"{base}/runCase?case={n}&agent={quoted}")
    async with connect(f"{base}/updateReports?agent={quoted}") as ws:
        try:
            await ws.recv()
        except ConnectionClosed:
            pass
    print(f"python-websockets testee client: {count} cases run", file=sys.stderr)


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1].rstrip("/"), sys.argv[2] if len(sys.argv) > 2 else "python-websockets"))
