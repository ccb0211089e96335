/**
 * The in-sandbox half of the egress path: listens on 127.0.0.1:3128 inside the sandbox's network namespace (which
 * has nothing but loopback) and pipes each connection to the host proxy's unix socket. It is no trust boundary:
 * code in the sandbox may kill or bypass it and talk to the socket directly; the host proxy decides everything.
 * Run by the sandbox's node; says "forwarder-ready" on fd 3 once listening, then closes fd 3.
 */
export const FORWARDER_PORT = 3128;

export const FORWARDER_SOURCE = `'use strict';
const net = require('node:net');
const fs = require('node:fs');
const socketPath = process.argv[2];
const server = net.createServer((client) => {
  const upstream = net.connect(socketPath);
  client.pipe(upstream);
  upstream.pipe(client);
  const end = () => { client.destroy(); upstream.destroy(); };
  client.on('error', end);
  upstream.on('error', end);
  client.on('close', end);
  upstream.on('close', end);
});
server.listen(${FORWARDER_PORT}, '127.0.0.1', () => {
  fs.writeSync(3, 'forwarder-ready\\n');
  fs.closeSync(3);
});
`;
