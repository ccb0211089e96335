/**
 * `--quick`: every bench also runs at a size that finishes in seconds, so a test can run it as the README shows
 * and catch a bench that no longer works. Quick figures are not measurements; say so next to them.
 */
export const QUICK = process.argv.includes('--quick');

/** A size from the environment, else the full or the quick default. */
export function sized(env: string, full: number, quick: number): number {
  const set = process.env[env];
  return set !== undefined ? Number(set) : QUICK ? quick : full;
}
