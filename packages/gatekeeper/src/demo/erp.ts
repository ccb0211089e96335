/**
 * The demo's small ERP: inventory, supplier quotes and purchase orders. It accepts calls only with the token the
 * gatekeeper adds (the agents never hold it), and remembers every order it was asked to place.
 */
import { readBody } from '../http/router.js';
import { listenLocal } from './local-server.js';

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
  const server = await listenLocal(async (req, res) => {
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
      const body = JSON.parse((await readBody(req)).toString('utf8')) as Omit<PlacedOrder, 'po' | 'placed_at'>;
      const order: PlacedOrder = { ...body, po: `PO-${4100 + orders.length + 1}`, placed_at: new Date().toISOString() };
      orders.push(order);
      return send(201, order);
    }
    if (req.method === 'GET' && url.pathname === '/orders') return send(200, { orders });
    send(404, { error: `no route ${req.method} ${url.pathname}` });
  });
  return { url: server.url, orders, close: server.close };
}
