/** Slack: a Block Kit message for an incoming webhook. */
import type { NoticeFacts } from './message.js';

const plain = (text: string) => ({ type: 'plain_text', text, emoji: true });
const md = (text: string) => ({ type: 'mrkdwn', text });

export function slackMessage(f: NoticeFacts): Record<string, unknown> {
  const fields = [
    md(`*Agent*\n${f.agent}${f.owner ? ` (owner ${f.owner})` : ''}`),
    md(`*Action*\n${f.action}`),
    ...(f.amount ? [md(`*Amount*\n${f.amount}`)] : []),
    md(`*Needs*\n${f.approvers}`),
    ...(f.chain.length > 1 ? [md(`*Handed on by*\n${f.chain.join(' → ')}`)] : []),
    md(`*Expires*\n${f.expires}`),
  ];
  return {
    text: f.title,
    blocks: [
      { type: 'header', text: plain(f.title.slice(0, 150)) },
      { type: 'section', fields },
      { type: 'section', text: md(`*Why the policy escalated*\n${f.reasons.map((r) => `• ${r}`).join('\n') || '—'}`) },
      { type: 'actions', elements: [{ type: 'button', text: plain('Review in console'), url: f.url, style: 'primary' }] },
    ],
  };
}
