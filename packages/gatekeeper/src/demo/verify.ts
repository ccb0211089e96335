/**
 * The demo's closing act, done the way an auditor would: ask the gatekeeper (as the auditor account) for the
 * approval's verdict entry and its escalation with inclusion proofs, check both against the signed checkpoint and
 * the verdict's Ed25519 signature, then verify the whole ledger file offline against the ledger's public key.
 */
import { canonicalJson, hashLeaf, parseCheckpoint, verifyInclusion, verifyLedgerFile, verifyNote, type LedgerRecord } from '@oagf/ledger';
import { verifyVerdict, type VerdictStatement } from '../approvals/signing.js';
import { basic } from './world.js';

export interface LedgerAudit {
  ok: boolean;
  lines: string[];
  verdict?: LedgerRecord;
}

interface EntryProof {
  index: number;
  record: LedgerRecord;
  size: number;
  proof: string[];
  checkpoint: string;
}

/** Fetches an entry with its proof from the console API and checks it against the signed checkpoint. */
async function provenEntry(consoleUrl: string, auth: string, q: string, vkey: string): Promise<EntryProof> {
  const res = await fetch(`${consoleUrl}/api/ledger/entry?q=${encodeURIComponent(q)}`, { headers: { authorization: auth } });
  if (!res.ok) throw new Error(`ledger entry ${q}: HTTP ${res.status}`);
  const e = (await res.json()) as EntryProof;
  verifyNote(e.checkpoint, [vkey]);
  const checkpoint = parseCheckpoint(e.checkpoint);
  const leaf = hashLeaf(Buffer.from(canonicalJson(e.record)));
  const proof = e.proof.map((p) => new Uint8Array(Buffer.from(p, 'base64')));
  if (checkpoint.size !== e.size || !verifyInclusion(e.index, e.size, leaf, proof, checkpoint.root)) {
    throw new Error(`entry #${e.index} is not included in the checkpoint of size ${checkpoint.size}`);
  }
  return e;
}

/** Online part: run while the gatekeeper is up. */
export async function auditApproval(consoleUrl: string, auth: string, vkey: string, approvalId: string, status: string): Promise<LedgerAudit> {
  const lines: string[] = [];
  try {
    const verdict = await provenEntry(consoleUrl, auth, `${approvalId}.${status}`, vkey);
    const link = verdict.record.links?.find((l) => l.rel === 'escalation');
    if (link?.index === undefined) throw new Error('the verdict entry is not linked to its escalation');
    const escalation = await provenEntry(consoleUrl, auth, String(link.index), vkey);
    const data = verdict.record.data as { statement: VerdictStatement; signature: string; public_key: string; key_id: string };
    const signed = verifyVerdict(data.statement, data.signature, data.public_key);
    const bound = escalation.record.outcome === 'escalate' && escalation.record.action_digest === data.statement.action_digest;
    lines.push(
      `verdict entry #${verdict.index} (${verdict.record.type}, by ${data.statement.reviewers.join(', ') || 'nobody'}) is in the signed checkpoint; approval-key signature ${signed ? 'valid' : 'INVALID'} (key ${data.key_id})`,
      `it links to escalation entry #${escalation.index} (outcome ${escalation.record.outcome}), bound to the same action digest: ${bound ? 'yes' : 'NO'}`,
    );
    if (escalation.record.payloads?.trace) lines.push(`reasoning trace committed in entry #${escalation.index} as payload ${escalation.record.payloads.trace}`);
    return { ok: signed && bound, lines, verdict: verdict.record };
  } catch (err) {
    return { ok: false, lines: [...lines, `audit FAILED: ${(err as Error).message}`] };
  }
}

/** Offline part: after the gatekeeper stopped, the whole file against the ledger's public key. */
export async function auditLedgerFile(file: string, vkey: string): Promise<LedgerAudit & { entries: number }> {
  const report = await verifyLedgerFile(file, { vkeys: [vkey] });
  return {
    ok: report.ok,
    entries: report.entries,
    lines: [
      report.ok
        ? `ledger file verified offline: ${report.entries} entries, ${report.checkpoints} signed checkpoints, root ${report.root?.slice(0, 16)}…, signed by ${report.signers.join(', ')}`
        : `ledger file verification FAILED: ${JSON.stringify(report.problem)}`,
    ],
  };
}

/** A demo's audit while the gatekeeper runs, as audrey the auditor: the verdict and its escalation proven. */
export async function auditVerdict(consoleUrl: string, vkey: string, approval: { id: string; status: string }, say: (l: string) => void, problems: string[]): Promise<void> {
  say('');
  say('Audit (as audrey, the auditor):');
  const online = await auditApproval(consoleUrl, basic('audrey'), vkey, approval.id, approval.status);
  online.lines.forEach((l) => say(`  ${l}`));
  if (!online.ok) problems.push('the approval audit failed');
}

/** A demo's end once the gatekeeper stopped: the ledger file verified offline, then the verdict on the demo. */
export async function auditLedger(file: string, vkey: string, say: (l: string) => void, problems: string[], designed: string): Promise<number> {
  const offline = await auditLedgerFile(file, vkey);
  offline.lines.forEach((l) => say(`  ${l}`));
  if (!offline.ok) problems.push('the ledger file does not verify');
  say('');
  say(problems.length ? `DEMO FAILED:\n  - ${problems.join('\n  - ')}` : `Demo complete: ${designed} and the ledger verifies.`);
  return offline.entries;
}
