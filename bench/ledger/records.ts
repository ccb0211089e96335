import { createHash } from 'node:crypto';

/** The decision record every ledger bench appends (n-th of a writer; ids stay unique across writers by prefix). */
export function decision(n: number, prefix = 'dec') {
  return {
    v: 1 as const,
    type: 'decision',
    id: `${prefix}-${n.toString().padStart(8, '0')}`,
    time: new Date(1_767_225_600_000 + n).toISOString(),
    agent: 'planning-agent',
    action_digest: `sha256:${createHash('sha256').update(`${prefix}${n}`).digest('hex')}`,
    outcome: n % 10 === 0 ? ('escalate' as const) : ('allow' as const),
    reasons: n % 10 === 0 ? ['order total exceeds the agent limit of 1000000 USD'] : [],
    policy_digest: 'sha256:5f2b0c8f0e8e4b1e9d1c2a3b4c5d6e7f8091a2b3c4d5e6f708192a3b4c5d6e7f',
  };
}

export async function appendConcurrently(ledger: { append(r: ReturnType<typeof decision>): Promise<unknown> }, from: number, to: number, concurrency: number, prefix?: string): Promise<{ seconds: number; cpuUs: number }> {
  let next = from;
  const started = performance.now();
  const cpu = process.cpuUsage();
  await Promise.all(
    Array.from({ length: concurrency }, async () => {
      while (next < to) await ledger.append(decision(next++, prefix));
    }),
  );
  const used = process.cpuUsage(cpu);
  return { seconds: (performance.now() - started) / 1000, cpuUs: used.user + used.system };
}
