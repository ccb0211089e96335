/**
 * The simplest load balancer in front of gatekeeper replicas, as its own process: each new TCP connection goes to
 * the next backend in turn and is piped both ways (HTTP keep-alive connections stay on their replica, as behind a
 * layer-4 balancer). Usage: round-robin.ts <port> <port>...; prints its own port on stdout.
 */
import { connect, createServer, type AddressInfo } from 'node:net';

const backends = process.argv.slice(2).map(Number);
let next = 0;
const server = createServer((client) => {
  const port = backends[next++ % backends.length]!;
  const upstream = connect(port, '127.0.0.1');
  client.setNoDelay(true);
  upstream.setNoDelay(true);
  client.pipe(upstream).pipe(client);
  const close = () => {
    client.destroy();
    upstream.destroy();
  };
  client.on('error', close);
  upstream.on('error', close);
  client.on('close', close);
  upstream.on('close', close);
});
server.listen(0, '127.0.0.1', () => console.log(String((server.address() as AddressInfo).port)));
