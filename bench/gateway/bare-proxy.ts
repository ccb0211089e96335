/**
 * The floor of any Node.js gateway on this machine, run as its own process: node:http in, undici out, the body
 * parsed and re-serialized both ways (as the gatekeeper does), no policy, no ledger. What the gatekeeper adds
 * beyond this is the price of its decisions and records; what this adds over direct is the price of a hop.
 * Usage: bare-proxy.ts <upstream origin>; prints its port on stdout.
 */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pool } from 'undici';

const upstream = new Pool(process.argv[2]!, { connections: 128, keepAliveTimeout: 60_000 });

const server = createServer(async (req, res) => {
  const chunks: Buffer[] = [];
  for await (const c of req) chunks.push(c as Buffer);
  const upstreamRes = await upstream.request({
    method: 'POST',
    path: req.url ?? '/',
    headers: { 'content-type': 'application/json', authorization: req.headers.authorization ?? '' },
    body: JSON.stringify(JSON.parse(Buffer.concat(chunks).toString('utf8'))),
  });
  const text = JSON.stringify(JSON.parse(await upstreamRes.body.text()));
  res.writeHead(upstreamRes.statusCode, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
});
server.keepAliveTimeout = 65_000;
server.listen(0, '127.0.0.1', () => console.log(String((server.address() as AddressInfo).port)));
