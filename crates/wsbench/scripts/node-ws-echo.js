// Echo server on Node's `ws`: every text and binary message goes back as it
// came. permessage-deflate is on with the library's defaults (messages under
// 1 KiB go out uncompressed), as a user enabling it would have it.
'use strict';
const { WebSocketServer } = require('ws');

const addr = process.argv[2] || '127.0.0.1:9001';
const cut = addr.lastIndexOf(':');
const wss = new WebSocketServer({
  host: addr.slice(0, cut),
  port: Number(addr.slice(cut + 1)),
  perMessageDeflate: true,
  maxPayload: 64 * 1024 * 1024,
});
wss.on('connection', (ws) => {
  ws.on('message', (data, isBinary) => ws.send(data, { binary: isBinary }));
  ws.on('error', () => {});
});
wss.on('listening', () => console.error(`node-ws echo server on ws://${addr}`));
