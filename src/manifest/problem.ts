import { compareText } from '../text-order.js';

/** A problem found in a manifest, located precisely enough for a person to fix it. */
export interface Problem {
  /** Repo-relative path, e.g. environments/staging/web.yaml. */
  file: string;
  /** 1-based; absent when the problem concerns the whole file or folder. */
  line?: number;
  column?: number;
  /** JSON pointer into the document, e.g. /deploy/replicas. */
  path?: string;
  /** The rule, and the bad value where there is one. */
  message: string;
}

/** `environments/staging/web.yaml:12:5: /deploy/replicas must be >= 0 (got -1)` */
export function formatProblem(problem: Problem): string {
  const where = problem.line === undefined ? problem.file : `${problem.file}:${problem.line}:${problem.column ?? 1}`;
  const path = problem.path ? `${problem.path} ` : '';
  return `${where}: ${path}${problem.message}`;
}

export function compareProblems(a: Problem, b: Problem): number {
  return compareText(a.file, b.file) || (a.line ?? 0) - (b.line ?? 0) || (a.column ?? 0) - (b.column ?? 0) || compareText(a.message, b.message);
}

/** A short rendering of a bad value for "(got …)". */
export function describeValue(value: unknown): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  if (typeof value === 'string') {
    const text = JSON.stringify(value);
    return text.length > 62 ? `${text.slice(0, 58)}…"` : text;
  }
  return String(value);
}

/** JSON pointer from path segments: ['deploy', 'replicas'] → /deploy/replicas. */
export function toPointer(segments: readonly (string | number)[]): string {
  return segments.map((s) => `/${String(s).replace(/~/g, '~0').replace(/\//g, '~1')}`).join('');
}

export function fromPointer(pointer: string): (string | number)[] {
  if (pointer === '') return [];
  return pointer
    .slice(1)
    .split('/')
    .map((s) => s.replace(/~1/g, '/').replace(/~0/g, '~'))
    .map((s) => (/^(0|[1-9][0-9]*)$/.test(s) ? Number(s) : s));
}
