/**
 * Compose variable interpolation on one string: `$$`, `$VAR`, `${VAR}`,
 * `${VAR:-default}`, `${VAR-default}`, `${VAR:?message}`, `${VAR?message}`,
 * `${VAR:+other}`, `${VAR+other}`; defaults may hold further `${…}`.
 * Values come from the environment's `.env` (never the daemon host's
 * environment). A variable whose name looks secret never takes a value from
 * git: when it is the whole value it becomes a secret reference, otherwise
 * the value is refused.
 */

export interface VariableScope {
  lookup(name: string): string | undefined;
  isSecret(name: string): boolean;
}

export type Interpolated =
  | { ok: true; value: string; secret?: undefined }
  | { ok: true; secret: string; value?: undefined }
  | { ok: false; message: string; index: number };

const namePattern = /^[A-Za-z_][A-Za-z0-9_]*/;

class InterpolationError extends Error {
  constructor(
    message: string,
    readonly index: number,
  ) {
    super(message);
  }
}

/** The whole value is one variable reference: `$NAME` or `${NAME}` or `${NAME<op>…}`; returns the name. */
function wholeReference(text: string): string | undefined {
  const bare = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(text);
  if (bare) return bare[1];
  const braced = /^\$\{([A-Za-z_][A-Za-z0-9_]*)(?:(?::?[-?+]).*)?\}$/s.exec(text);
  if (!braced) return undefined;
  // `${A}-${B}` also matches the pattern above: make sure the first brace closes at the end.
  return closingBrace(text, 2) === text.length - 1 ? braced[1] : undefined;
}

function closingBrace(text: string, from: number): number {
  let depth = 1;
  for (let i = from; i < text.length; i++) {
    if (text[i] === '$' && text[i + 1] === '$') i++;
    else if (text[i] === '$' && text[i + 1] === '{') {
      depth++;
      i++;
    } else if (text[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function expand(text: string, scope: VariableScope, base: number): string {
  let out = '';
  let i = 0;
  while (i < text.length) {
    const dollar = text.indexOf('$', i);
    if (dollar < 0) {
      out += text.slice(i);
      break;
    }
    out += text.slice(i, dollar);
    const next = text[dollar + 1];
    if (next === '$') {
      out += '$';
      i = dollar + 2;
      continue;
    }
    if (next === '{') {
      const close = closingBrace(text, dollar + 2);
      if (close < 0) throw new InterpolationError(`has an unclosed "\${" (write "$$" for a literal "$")`, base + dollar);
      out += braced(text.slice(dollar + 2, close), scope, base + dollar);
      i = close + 1;
      continue;
    }
    const name = namePattern.exec(text.slice(dollar + 1))?.[0];
    if (!name) {
      out += '$'; // a lone "$" (before a space, "(", the end…) stays literal, as a shell would keep it
      i = dollar + 1;
      continue;
    }
    out += value(name, scope, base + dollar);
    i = dollar + 1 + name.length;
  }
  return out;
}

function value(name: string, scope: VariableScope, index: number): string {
  if (scope.isSecret(name)) {
    throw new InterpolationError(
      `uses \${${name}} inside a longer value; a variable whose name looks secret becomes a secret reference and must be the whole value of an environment variable`,
      index,
    );
  }
  const found = scope.lookup(name);
  if (found === undefined) throw new InterpolationError(`uses \${${name}}, which is not set in the environment's .env (give a default with \${${name}:-value})`, index);
  return found;
}

function braced(inner: string, scope: VariableScope, index: number): string {
  const name = namePattern.exec(inner)?.[0];
  if (!name) throw new InterpolationError(`has an invalid variable reference "\${${inner}}"`, index);
  const rest = inner.slice(name.length);
  if (rest === '') return value(name, scope, index);
  const op = /^(:?[-?+])/.exec(rest)?.[1];
  if (!op) throw new InterpolationError(`has an invalid variable reference "\${${inner}}"`, index);
  const arg = rest.slice(op.length);
  const secret = scope.isSecret(name);
  const found = secret ? undefined : scope.lookup(name);
  const unset = op.startsWith(':') ? found === undefined || found === '' : found === undefined;
  switch (op.replace(':', '')) {
    case '-':
      if (secret) return value(name, scope, index);
      return unset ? expand(arg, scope, index) : found!;
    case '?':
      if (secret) return value(name, scope, index);
      if (unset) throw new InterpolationError(`requires \${${name}}: ${arg || 'it is not set in the environment\'s .env'}`, index);
      return found!;
    default: // '+'
      return unset ? '' : expand(arg, scope, index);
  }
}

/** Interpolates one scalar. `index` in a failure is the offset of the offending `$` in `text`. */
export function interpolate(text: string, scope: VariableScope): Interpolated {
  if (!text.includes('$')) return { ok: true, value: text };
  const whole = wholeReference(text);
  if (whole !== undefined && scope.isSecret(whole) && !/^\$\{[A-Za-z0-9_]+:?\+/.test(text)) return { ok: true, secret: whole };
  try {
    return { ok: true, value: expand(text, scope, 0) };
  } catch (error) {
    if (error instanceof InterpolationError) return { ok: false, message: error.message, index: error.index };
    throw error;
  }
}
