// A fuzzing-server driver on Node's `ws` client, permessage-deflate offered
// as `perMessageDeflate: true` offers it: a client peer for verdict-agreement
// runs in fuzzingserver mode (`MODE=server tools/agreement`).
//
// Usage: testee-client ws://HOST:PORT [AGENT]
'use strict';
const WebSocket = require('ws');

const base = (process.argv[2] || 'ws://127.0.0.1:9001').replace(/\/+$/, '');
const agent = process.argv[3] || 'node-ws';

// Opens `url` and settles when the connection is gone, however it went.
// With `echo`, every message goes back as it came (text as text).
function session(url, { echo = false, onMessage } = {}) {
  return new Promise((resolve) => {
    const ws = new WebSocket(url, { perMessageDeflate: true, maxPayload: 64 * 1024 * 1024 });
    ws.on('message', (data, isBinary) => {
      if (onMessage) onMessage(data);
      if (echo) ws.send(data, { binary: isBinary });
    });
    // A case the client fails on is judged by the server; go on to the next.
    ws.on('error', () => {});
    ws.on('close', () => resolve());
  });
}

async function main() {
  let count = 0;
  await session(`${base}/getCaseCount`, { onMessage: (d) => { count = JSON.parse(d.toString()); } });
  const quoted = encodeURIComponent(agent);
  for (let n = 1; n <= count; n++) {
    await session(`${base}/runCase?case=${n}&agent=${quoted}`, { echo: true });
  }
  await session(`${base}/updateReports?agent=${quoted}`);
  console.error(`node-ws testee client: ${count} cases run`);
}

main();
