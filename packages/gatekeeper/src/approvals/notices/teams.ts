/**
 * Microsoft Teams: an Adaptive Card (schema 1.5) in the message envelope that Teams incoming webhooks and
 * Workflows ("Post to a channel when a webhook request is received") accept.
 */
import type { NoticeFacts } from './message.js';

export function teamsMessage(f: NoticeFacts): Record<string, unknown> {
  const facts = [
    { title: 'Agent', value: f.owner ? `${f.agent} (owner ${f.owner})` : f.agent },
    ...(f.chain.length > 1 ? [{ title: 'Handed on by', value: f.chain.join(' → ') }] : []),
    { title: 'Action', value: f.action },
    ...(f.amount ? [{ title: 'Amount', value: f.amount }] : []),
    { title: 'Needs', value: f.approvers },
    { title: 'Expires', value: f.expires },
  ];
  const card = {
    $schema: 'http://adaptivecards.io/schemas/adaptive-card.json',
    type: 'AdaptiveCard',
    version: '1.5',
    fallbackText: `${f.title} — ${f.url}`,
    body: [
      { type: 'TextBlock', text: 'Gatekeeper · approval needed', size: 'Small', weight: 'Bolder', color: 'Accent', wrap: true },
      { type: 'TextBlock', text: f.title, size: 'Large', weight: 'Bolder', wrap: true },
      ...(f.amount ? [{ type: 'TextBlock', text: f.amount, size: 'ExtraLarge', weight: 'Bolder', color: 'Attention', spacing: 'None' }] : []),
      { type: 'FactSet', facts },
      {
        type: 'Container',
        style: 'warning',
        items: [
          { type: 'TextBlock', text: 'Why the policy escalated', weight: 'Bolder', wrap: true },
          ...f.reasons.map((r) => ({ type: 'TextBlock', text: `• ${r}`, wrap: true, spacing: 'Small' })),
        ],
      },
    ],
    actions: [{ type: 'Action.OpenUrl', title: 'Review in console', url: f.url, style: 'positive' }],
  };
  return {
    type: 'message',
    attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', contentUrl: null, content: card }],
  };
}
