/** A loopback port nothing listens on now: for a server that must know its URL before it starts, or to be refused. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export async function unusedPort(): Promise<number> {
  const server = createServer();
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}
