import { constants } from 'node:fs';
import { lstat, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { sha256 } from './digest.js';
import type { OutputFile, SkippedOutput } from './types.js';

/**
 * Reads requested output files from the sandbox's work dir as seen from the host (/proc/PID/root/work of a frozen
 * sandbox). Symbolic links are never followed: an absolute link resolves against the *host's* root there, so a
 * link to /etc/shadow would otherwise read the host's file. Only regular files are taken.
 */
export interface CollectResult {
  files: OutputFile[];
  skipped: SkippedOutput[];
}

async function lstatOrNull(path: string) {
  return lstat(path).catch(() => null);
}

/** True when every component of `rel` below `root` is a real directory (no link on the way). */
async function directoriesOnly(root: string, segments: string[]): Promise<boolean> {
  let path = root;
  for (const segment of segments) {
    path = join(path, segment);
    const st = await lstatOrNull(path);
    if (!st || !st.isDirectory()) return false;
  }
  return true;
}

async function readRegular(path: string, maxBytes: number): Promise<Buffer | 'not_regular' | 'too_large'> {
  const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK).catch(() => null);
  if (!handle) return 'not_regular';
  try {
    const st = await handle.stat();
    if (!st.isFile()) return 'not_regular';
    if (st.size > maxBytes) return 'too_large';
    const buffer = Buffer.alloc(st.size);
    const { bytesRead } = await handle.read(buffer, 0, st.size, 0);
    return buffer.subarray(0, bytesRead);
  } finally {
    await handle.close();
  }
}

async function walk(root: string, rel: string, out: string[], limit: number): Promise<void> {
  const entries = await readdir(join(root, rel), { withFileTypes: true }).catch(() => []);
  for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
    if (out.length >= limit) return;
    const child = rel ? `${rel}/${entry.name}` : entry.name;
    if (entry.isDirectory()) await walk(root, child, out, limit);
    else if (entry.isFile()) out.push(child);
  }
}

export async function collectOutputs(root: string, patterns: string[], maxTotalBytes: number, maxFiles = 1000): Promise<CollectResult> {
  const files: OutputFile[] = [];
  const skipped: SkippedOutput[] = [];
  const seen = new Set<string>();
  let total = 0;
  const take = async (rel: string) => {
    if (seen.has(rel)) return;
    seen.add(rel);
    const segments = rel.split('/');
    if (!(await directoriesOnly(root, segments.slice(0, -1)))) return void skipped.push({ path: rel, reason: 'missing' });
    const st = await lstatOrNull(join(root, rel));
    if (!st) return void skipped.push({ path: rel, reason: 'missing' });
    if (!st.isFile()) return void skipped.push({ path: rel, reason: 'not_regular' });
    const content = await readRegular(join(root, rel), maxTotalBytes - total);
    if (content === 'too_large') return void skipped.push({ path: rel, reason: st.size > maxTotalBytes ? 'too_large' : 'total_too_large' });
    if (content === 'not_regular') return void skipped.push({ path: rel, reason: 'not_regular' });
    total += content.byteLength;
    files.push({ path: rel, bytes: content.byteLength, sha256: sha256(content), content });
  };
  for (const pattern of patterns) {
    if (!pattern.endsWith('/')) {
      await take(pattern);
      continue;
    }
    const dir = pattern.slice(0, -1);
    if (!(await directoriesOnly(root, dir.split('/')))) {
      skipped.push({ path: pattern, reason: 'missing' });
      continue;
    }
    const found: string[] = [];
    await walk(root, dir, found, maxFiles);
    for (const rel of found) await take(rel);
  }
  return { files, skipped };
}
