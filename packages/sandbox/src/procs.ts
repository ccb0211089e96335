import { readdirSync, readFileSync } from 'node:fs';

function childrenViaTask(pid: number): number[] | null {
  try {
    const out: number[] = [];
    for (const tid of readdirSync(`/proc/${pid}/task`)) {
      const text = readFileSync(`/proc/${pid}/task/${tid}/children`, 'utf8');
      for (const c of text.split(' ')) if (c.trim()) out.push(Number(c));
    }
    return out;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'ENOENT' && pidAlive(pid) ? null : [];
  }
}

function parentsByScan(): Map<number, number[]> {
  const byParent = new Map<number, number[]>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      const stat = readFileSync(`/proc/${name}/stat`, 'utf8');
      const ppid = Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
      byParent.set(ppid, [...(byParent.get(ppid) ?? []), Number(name)]);
    } catch {
      // exited while scanning
    }
  }
  return byParent;
}

function pidAlive(pid: number): boolean {
  try {
    readFileSync(`/proc/${pid}/stat`);
    return true;
  } catch {
    return false;
  }
}

/** `pid` and all its descendants, parents first (kernels without /proc/PID/task/TID/children: a /proc scan). */
export function processTree(pid: number): number[] {
  const out: number[] = [];
  let scan: Map<number, number[]> | undefined;
  const visit = (p: number) => {
    out.push(p);
    let children = childrenViaTask(p);
    if (children === null) children = (scan ??= parentsByScan()).get(p) ?? [];
    for (const c of children) visit(c);
  };
  visit(pid);
  return out;
}
