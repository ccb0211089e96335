/**
 * The gatekeeper's approval key: every final verdict is signed with Ed25519 over a canonical statement of
 * what was decided (approval id, action digest, policy digest, verdict, reviewers), so an auditor can check a
 * verdict in the ledger without trusting the database it came from.
 */
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign, verify, type KeyObject } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { canonicalJson } from '@oagf/ledger';

export interface VerdictStatement {
  v: 1;
  approval_id: string;
  action_digest: string;
  policy_digest: string;
  verdict: 'approved' | 'rejected' | 'expired';
  reviewers: string[];
  time: string;
}

export class ApprovalSigner {
  readonly publicKeyPem: string;
  /** First 16 hex digits of SHA-256 over the raw public key. */
  readonly keyId: string;

  constructor(private readonly key: KeyObject) {
    if (key.asymmetricKeyType !== 'ed25519') throw new Error('approval signing key must be Ed25519');
    const pub = createPublicKey(key);
    this.publicKeyPem = pub.export({ type: 'spki', format: 'pem' }).toString();
    this.keyId = createHash('sha256').update(pub.export({ type: 'spki', format: 'der' })).digest('hex').slice(0, 16);
  }

  static generate(): ApprovalSigner {
    return new ApprovalSigner(generateKeyPairSync('ed25519').privateKey);
  }

  /** Loads the PEM key at `file`, creating one (mode 0600) on first start. */
  static fromFile(file: string): ApprovalSigner {
    if (!existsSync(file)) {
      mkdirSync(dirname(file), { recursive: true });
      const pem = generateKeyPairSync('ed25519').privateKey.export({ type: 'pkcs8', format: 'pem' });
      writeFileSync(file, pem, { mode: 0o600 });
    }
    return new ApprovalSigner(createPrivateKey(readFileSync(file)));
  }

  sign(statement: VerdictStatement): string {
    return sign(null, Buffer.from(canonicalJson(statement)), this.key).toString('base64');
  }
}

export function verifyVerdict(statement: VerdictStatement, signatureB64: string, publicKeyPem: string): boolean {
  return verify(null, Buffer.from(canonicalJson(statement)), createPublicKey(publicKeyPem), Buffer.from(signatureB64, 'base64'));
}
