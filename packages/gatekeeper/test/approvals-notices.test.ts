import { test } from 'node:test';
import assert from 'node:assert/strict';
import { createServer, type IncomingMessage } from 'node:http';
import { readFileSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { Ajv } from 'ajv';
import addFormats from 'ajv-formats';
import { orderAttempt, world } from './approvals-fixtures.js';
import { NoticeDispatcher, slackChannel, teamsChannel, webhookChannel } from '../src/approvals/notices/dispatcher.js';
import { noticeFacts } from '../src/approvals/notices/message.js';
import { teamsMessage } from '../src/approvals/notices/teams.js';
import { verifySignature, SIGNATURE_HEADER } from '../src/approvals/notices/webhook.js';

interface Received {
  path: string;
  headers: IncomingMessage['headers'];
  body: string;
}

/** A local receiver that fails the first `failFirst` requests on each path with 503. */
async function receiver(failFirst = 0) {
  const received: Received[] = [];
  const seen = new Map<string, number>();
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      const n = (seen.get(req.url!) ?? 0) + 1;
      seen.set(req.url!, n);
      if (n <= failFirst) {
        res.writeHead(503).end();
        return;
      }
      received.push({ path: req.url!, headers: req.headers, body: Buffer.concat(chunks).toString() });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  return { received, url, close: () => new Promise((r) => server.close(r)) };
}

async function pendingApproval() {
  const w = world();
  const outcome = await w.gate.decide(orderAttempt(2000));
  return { ...w, approval: (await w.service.get(outcome.approval!.id))! };
}

test('a webhook notice reaches the receiver as a CloudEvent with a valid HMAC-SHA256 signature, after retries', async () => {
  const { service, approval } = await pendingApproval();
  const rx = await receiver(2);
  const secret = 'whsec-test-secret';
  const dispatcher = new NoticeDispatcher({
    store: service.store,
    channels: [webhookChannel('webhook#1', `${rx.url}/hook`, secret, 'gatekeeper://test')],
    consoleUrl: 'http://127.0.0.1:8787/console',
    attempts: 4,
    backoffMs: 10,
    timeoutMs: 2000,
  });
  dispatcher.dispatch(approval);
  await dispatcher.idle();
  await rx.close();
  assert.equal(rx.received.length, 1);
  const [got] = rx.received;
  assert.equal(got!.headers['content-type'], 'application/cloudevents+json');
  assert.ok(verifySignature(got!.body, secret, got!.headers[SIGNATURE_HEADER] as string), 'HMAC verifies with the shared secret');
  assert.ok(!verifySignature(got!.body, 'wrong-secret', got!.headers[SIGNATURE_HEADER] as string));
  assert.ok(!verifySignature(got!.body.replace('2400000', '2400001'), secret, got!.headers[SIGNATURE_HEADER] as string));
  const event = JSON.parse(got!.body);
  assert.equal(event.specversion, '1.0');
  assert.equal(event.type, 'org.oagf.approval.requested');
  assert.equal(event.subject, approval.id);
  for (const attr of ['id', 'source', 'time']) assert.ok(event[attr], `CloudEvents attribute ${attr}`);
  assert.equal(event.data.action_digest, approval.actionDigest);
  assert.equal(event.data.url, `http://127.0.0.1:8787/console/requests/${approval.id}`);
  const [status] = (await service.store.notices(approval.id));
  assert.deepEqual({ channel: status!.channel, status: status!.status, attempts: status!.attempts }, { channel: 'webhook#1', status: 'delivered', attempts: 3 });
});

test('a delivery that keeps failing is marked failed with its last error, and the approval is untouched', async () => {
  const { service, approval } = await pendingApproval();
  const rx = await receiver(100);
  const dispatcher = new NoticeDispatcher({
    store: service.store,
    channels: [slackChannel('slack#1', `${rx.url}/slack`)],
    consoleUrl: 'http://x/console',
    attempts: 3,
    backoffMs: 5,
    timeoutMs: 1000,
  });
  dispatcher.dispatch(approval);
  await dispatcher.idle();
  await rx.close();
  const [status] = (await service.store.notices(approval.id));
  assert.equal(status!.status, 'failed');
  assert.equal(status!.attempts, 3);
  assert.equal(status!.lastError, 'HTTP 503');
  assert.equal((await service.get(approval.id))!.status, 'pending');
});

test('the Teams payload is a valid Adaptive Card 1.5 with a link into the console', async () => {
  const { service, approval } = await pendingApproval();
  const schema = JSON.parse(readFileSync(new URL('./approvals-adaptive-card-1.5-subset.schema.json', import.meta.url), 'utf8'));
  const ajv = new Ajv({ allErrors: true, strict: false });
  (addFormats as unknown as (a: Ajv) => void)(ajv);
  const validate = ajv.compile(schema);

  const message = teamsMessage(noticeFacts(approval, 'https://gk.example.com/console'));
  assert.equal(message.type, 'message');
  const [attachment] = message.attachments as { contentType: string; content: Record<string, unknown> }[];
  assert.equal(attachment!.contentType, 'application/vnd.microsoft.card.adaptive');
  const card = attachment!.content;
  assert.ok(validate(card), JSON.stringify(validate.errors));
  assert.equal(card.version, '1.5');
  const text = JSON.stringify(card);
  assert.match(text, /\$2,400,000\.00/);
  assert.match(text, /over the agent limit/);
  assert.deepEqual(card.actions, [{ type: 'Action.OpenUrl', title: 'Review in console', url: `https://gk.example.com/console/requests/${approval.id}`, style: 'positive' }]);

  // The schema check is not vacuous: a card missing a fact value or with an unknown element is refused.
  const broken = structuredClone(card) as { body: Record<string, unknown>[] };
  (broken.body.find((b) => b.type === 'FactSet')!.facts as Record<string, unknown>[])[0]!.value = undefined;
  assert.ok(!validate(JSON.parse(JSON.stringify(broken))));
  assert.ok(!validate({ ...card, body: [{ type: 'Marquee', text: 'x' }] }));

  // And it is what the Teams channel posts.
  const rx = await receiver();
  const dispatcher = new NoticeDispatcher({
    store: service.store,
    channels: [teamsChannel('teams#1', `${rx.url}/teams`)],
    consoleUrl: 'https://gk.example.com/console',
    attempts: 1,
    backoffMs: 1,
    timeoutMs: 1000,
  });
  dispatcher.dispatch(approval);
  await dispatcher.idle();
  await rx.close();
  assert.deepEqual(JSON.parse(rx.received[0]!.body), message);
});

test('the Slack payload is Block Kit with the amount, the reason and a console button', async () => {
  const { approval } = await pendingApproval();
  const { slackMessage } = await import('../src/approvals/notices/slack.js');
  const msg = slackMessage(noticeFacts(approval, 'http://gk/console')) as { text: string; blocks: { type: string }[] };
  assert.deepEqual(msg.blocks.map((b) => b.type), ['header', 'section', 'section', 'actions']);
  const text = JSON.stringify(msg);
  assert.match(text, /\$2,400,000\.00/);
  assert.match(text, /over the agent limit/);
  assert.match(text, new RegExp(`http://gk/console/requests/${approval.id}`));
});
