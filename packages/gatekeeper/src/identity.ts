/**
 * Human identities — console accounts, agent owners, approver users and groups — compared in one canonical form,
 * so that "Dana@ACME.example", "ｄａｎａ@acme.example" (full-width) or "dana\u200b@acme.example" (a zero-width
 * space) are the same person as "dana@acme.example" wherever the gatekeeper asks "is this the same person?".
 *
 * Canonical form: Unicode NFKC (compatibility forms: full-width letters, ligatures), default-ignorable characters
 * removed, then case-folded (upper then lower case, so "ß" and "SS" meet), NFKC again. What cannot be made
 * unambiguous — control characters, white space, letters of several scripts ("dаna" with a Cyrillic а) — is
 * refused where identities are configured (`identityProblem`).
 */

export function canonicalIdentity(s: string): string {
  return s.normalize('NFKC').replace(/\p{Default_Ignorable_Code_Point}/gu, '').toUpperCase().toLowerCase().normalize('NFKC');
}

export function sameIdentity(a: string, b: string): boolean {
  return canonicalIdentity(a) === canonicalIdentity(b);
}

/**
 * For four eyes, where a false "different person" lets someone approve their own request: the same identity, a
 * bare name that is the local part of the other's e-mail address ("dana" and "dana@acme.example"), or two
 * addresses of one mailbox ("dana+bots@acme.example"): a "+tag" after the local part is ignored.
 */
export function maybeSamePerson(a: string, b: string): boolean {
  const [ca, cb] = [mailbox(a), mailbox(b)];
  if (ca.local === cb.local && ca.domain === cb.domain) return true;
  return ca.local === cb.local && (ca.domain === undefined || cb.domain === undefined);
}

function mailbox(identity: string): { local: string; domain?: string } {
  const canonical = canonicalIdentity(identity);
  const at = canonical.lastIndexOf('@');
  if (at < 0) return { local: canonical };
  const local = canonical.slice(0, at);
  const plus = local.indexOf('+');
  return { local: plus > 0 ? local.slice(0, plus) : local, domain: canonical.slice(at + 1) };
}

const SCRIPTS = ['Latin', 'Greek', 'Cyrillic', 'Armenian', 'Hebrew', 'Arabic', 'Devanagari', 'Thai', 'Hangul', 'Han', 'Hiragana', 'Katakana', 'Georgian', 'Ethiopic'];
const SCRIPT_RE = SCRIPTS.map((name) => ({ name, re: new RegExp(`\\p{Script=${name}}`, 'u') }));
/** Japanese mixes these by design. */
const JAPANESE = new Set(['Han', 'Hiragana', 'Katakana']);

/** Why `s` cannot serve as an identity, or undefined. */
export function identityProblem(s: string): string | undefined {
  if (s.trim() === '') return 'is empty';
  if (/[\p{Cc}\p{Cs}\p{Co}\p{Zl}\p{Zp}]/u.test(s)) return 'holds control characters';
  if (/\s/u.test(s)) return 'holds white space';
  if (/\p{Default_Ignorable_Code_Point}/u.test(s)) return 'holds invisible characters';
  const scripts = new Set<string>();
  for (const ch of canonicalIdentity(s)) {
    if (!/\p{L}/u.test(ch)) continue;
    const script = SCRIPT_RE.find((x) => x.re.test(ch))?.name ?? 'another script';
    scripts.add(JAPANESE.has(script) ? 'Japanese' : script);
  }
  if (scripts.size > 1) return `mixes letters of several scripts (${[...scripts].join(', ')}), so it can look like another identity`;
  return undefined;
}

/** A configured identity, with where it is configured, for the checks below. */
export interface PlacedIdentity {
  path: (string | number)[];
  value: string;
}

/**
 * Problems among configured identities (paths relative to `section`, which messages name): each one unusable, and each pair that is the same identity spelt two ways
 * (`spelling`), or — with `distinct` — the same identity twice, or a bare name and an e-mail address whose local
 * part it is (two accounts one person could hold, e.g. to give two of the approvals an N-of-M rule needs).
 */
export function identityConflicts(ids: PlacedIdentity[], distinct: boolean, section: string): { path: (string | number)[]; message: string }[] {
  const problems: { path: (string | number)[]; message: string }[] = [];
  const where = (p: PlacedIdentity) => [section, ...p.path].join('.');
  ids.forEach((id, i) => {
    const problem = identityProblem(id.value);
    if (problem) return problems.push({ path: id.path, message: `${JSON.stringify(id.value)} ${problem}` });
    for (const earlier of ids.slice(0, i)) {
      if (identityProblem(earlier.value)) continue;
      if (sameIdentity(earlier.value, id.value)) {
        if (distinct) problems.push({ path: id.path, message: `${JSON.stringify(id.value)} is the same identity as ${where(earlier)} ${JSON.stringify(earlier.value)} (identities compare without case and Unicode compatibility forms)` });
        else if (earlier.value !== id.value) problems.push({ path: id.path, message: `${JSON.stringify(id.value)} is ${where(earlier)} ${JSON.stringify(earlier.value)} spelt another way: spell one identity one way` });
        else continue;
        break;
      }
      if (distinct && maybeSamePerson(earlier.value, id.value)) {
        problems.push({ path: id.path, message: `${JSON.stringify(id.value)} and ${where(earlier)} ${JSON.stringify(earlier.value)} are ambiguous: a bare name and an e-mail address with that local part may be one person` });
        break;
      }
    }
    return undefined;
  });
  return problems;
}
