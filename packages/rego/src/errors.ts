/** Errors with OPA's codes. Messages are formatted as OPA prints them: `file:row: code: message`. */
export interface Location {
  file: string;
  row: number;
  col: number;
}

export interface RegoErrorDetail {
  code: string;
  message: string;
  location?: Location;
}

export class RegoError extends Error {
  readonly code: string;
  readonly errors: RegoErrorDetail[];

  constructor(errors: RegoErrorDetail[]) {
    super(errors.map(formatDetail).join('\n'));
    this.name = 'RegoError';
    this.code = errors[0]?.code ?? 'rego_error';
    this.errors = errors;
  }

  static single(code: string, message: string, location?: Location): RegoError {
    return new RegoError([{ code, message, location }]);
  }
}

export function formatDetail(e: RegoErrorDetail): string {
  const loc = e.location ? `${e.location.file}:${e.location.row}: ` : '';
  return `${loc}${e.code}: ${e.message}`;
}

/** Evaluation aborted by the budget (steps or wall time). */
export class BudgetExceededError extends RegoError {
  constructor(message: string) {
    super([{ code: 'eval_cancel_error', message }]);
  }
}
