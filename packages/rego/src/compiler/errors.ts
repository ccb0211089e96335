import type { Location, RegoErrorDetail } from '../errors.js';

export const err = (code: string, message: string, location?: Location): RegoErrorDetail => ({ code, message, location });
