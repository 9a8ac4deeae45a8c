import type { ZodError } from 'zod';
import type { ErrorPayload } from '@agent-gateway/protocol';

const MAX_ISSUES = 10;

/** Zod's issues as the ERROR frame lists them: where, and what was wrong. */
export function zodIssues(error: ZodError, prefix = ''): NonNullable<ErrorPayload['issues']> {
  return error.issues.slice(0, MAX_ISSUES).map((issue) => ({
    path: [prefix, ...issue.path.map(String)].filter(Boolean).join('.') || '(root)',
    message: issue.message,
  }));
}
