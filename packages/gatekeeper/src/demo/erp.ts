/**
 * The demo's small ERP: inventory, supplier quotes and purchase orders. It accepts calls only with the token the
 * gatekeeper adds (the agents never hold it), and remembers every order it was asked to place.
 */
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface PlacedOrder {
  po: string;
  sku: string;
  quantity: number;
  supplier: string;
  unit_price: number;
  total: number;
  currency: string;
  placed_at: string;
}

export interface Erp {
  url: string;
  orders: PlacedOrder[];
  close(): Promise<void>;
}

const INVENTORY: Record<string, { on_hand: number; reorder_point: number; description: string }> = {
  'STEEL-COIL-7': { on_hand: 300, reorder_point: 600, description: 'Hot-rolled steel coil, grade S355' },
};

export async function startErp(token: string): Promise<Erp> {
  const orders: PlacedOrder[] = [];
  const server: Server = createServer(async (req, res) => {
    const send = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (req.headers.authorization !== `Bearer ${token}`) return send(401, { error: 'missing or wrong ERP credentials' });
    const url = new URL(req.url ?? '/', 'http://erp');
    const sku = url.pathname.match(/^\/inventory\/([^/]+)$/)?.[1];
    if (req.method === 'GET' && sku) {
      const item = INVENTORY[decodeURIComponent(sku)];
      return item ? send(200, { sku: decodeURIComponent(sku), ...item }) : send(404, { error: `unknown sku ${sku}` });
    }
    if (req.method === 'POST' && url.pathname === '/orders') {
      const body = JSON.parse(await text(req)) as Omit<PlacedOrder, 'po' | 'placed_at'>;
      const order: PlacedOrder = { ...body, po: `PO-${4100 + orders.length + 1}`, placed_at: new Date().toISOString() };
      orders.push(order);
      return send(201, order);
    }
    if (req.method === 'GET' && url.pathname === '/orders') return send(200, { orders });
    send(404, { error: `no route ${req.method} ${url.pathname}` });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    orders,
    close: () =>
      new Promise((r) => {
        server.close(() => r());
        server.closeAllConnections();
      }),
  };
}

function text(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}
