/** The demo's stand-in for Teams and a webhook consumer: it receives the gatekeeper's notices and checks them. */
import { SIGNATURE_HEADER, verifySignature } from '../approvals/notices/webhook.js';
import { readBody } from '../http/router.js';
import { listenLocal } from './local-server.js';

export interface NoticeSink {
  url: string;
  received: { channel: 'teams' | 'webhook'; summary: string; signatureValid?: boolean }[];
  close(): Promise<void>;
}

export async function startNoticeSink(secret: string, onNotice: (line: string) => void): Promise<NoticeSink> {
  const received: NoticeSink['received'] = [];
  const server = await listenLocal(async (req, res) => {
    const body = await readBody(req);
    const json = JSON.parse(body.toString('utf8'));
    if (req.url === '/teams') {
      const card = json.attachments?.[0]?.content;
      const entry = { channel: 'teams' as const, summary: `Adaptive Card ${card?.version}: "${card?.body?.[1]?.text}"` };
      received.push(entry);
      onNotice(`Teams channel got ${entry.summary}`);
    } else {
      const valid = verifySignature(body, secret, req.headers[SIGNATURE_HEADER] as string | undefined);
      const entry = { channel: 'webhook' as const, summary: `CloudEvent ${json.type} for ${json.subject}`, signatureValid: valid };
      received.push(entry);
      onNotice(`webhook got ${entry.summary}, HMAC ${valid ? 'valid' : 'INVALID'}`);
    }
    res.writeHead(200).end();
  });
  return { url: server.url, received, close: server.close };
}
