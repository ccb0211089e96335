/** gatekeeper.yaml `sessions:`: session history for session-aware policies (input.session). */
import { z } from 'zod';

const UNITS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

/** "90s", "10m", "1h", "7d" → ms. */
export function durationMs(text: string): number {
  const m = /^(\d+)([smhd])$/.exec(text);
  return Number(m![1]) * UNITS[m![2]!]!;
}

const Duration = z.string().regex(/^[1-9]\d*[smhd]$/, 'a duration such as 90s, 10m, 1h or 7d');

export const SessionsConfig = z
  .strictObject({
    /** Not used with `storage.postgres`: the history is then in that schema, shared by replicas. */
    store: z
      .strictObject({ sqlite: z.string().min(1).describe('Database file (relative to gatekeeper.yaml) or :memory:; not used with storage.postgres') })
      .default({ sqlite: 'sessions.db' }),
    /** Actions kept per session (the oldest go first); the policy sees all of them. */
    max_actions: z.number().int().positive().max(1000).default(50),
    /** Actions older than this are forgotten. */
    expire: Duration.default('24h'),
    /**
     * Action kinds kept in the history. Every action still gets `input.session`; by default model requests are not
     * kept (they are turns of the conversation, not acts on the world: the tool calls they return are kept).
     */
    kinds: z.array(z.string().min(1)).optional(),
    /** Windows of `input.session.totals`. */
    windows: z.array(Duration).min(1).default(['1h', '24h']),
  })
  .superRefine((c, ctx) => {
    for (const [i, w] of c.windows.entries()) {
      if (durationMs(w) > durationMs(c.expire)) ctx.addIssue({ code: 'custom', path: ['windows', i], message: `window ${w} is longer than expire (${c.expire}): its total would miss forgotten actions` });
    }
  });

export type SessionsConfig = z.output<typeof SessionsConfig>;
