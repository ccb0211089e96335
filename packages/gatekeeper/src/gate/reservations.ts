/** Reservations taken by several plug-ins behave as one: settled together, released together, each exactly once. */
import type { ReleaseProgress, Reservation } from './hooks.js';

export function combineReservations(all: Reservation[]): Reservation | undefined {
  if (all.length <= 1) return all[0];
  return {
    async settle(actual: unknown) {
      await Promise.all(all.map((r) => r.settle(actual)));
    },
    async release(reason: string, progress?: ReleaseProgress) {
      await Promise.all(all.map((r) => r.release(reason, progress)));
    },
  };
}

/** A reservation that closes at most once, whichever path ends the action first (or none is held). */
export class Escrow {
  private open: boolean;

  constructor(private readonly reservation: Reservation | undefined) {
    this.open = reservation !== undefined;
  }

  async settle(actual: unknown): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.reservation!.settle(actual);
  }

  async release(reason: string, progress?: ReleaseProgress): Promise<void> {
    if (!this.open) return;
    this.open = false;
    await this.reservation!.release(reason, progress);
  }
}
