import { Scalar, isMap, isScalar, isSeq, visit } from 'yaml';
import type { Document, Node } from 'yaml';
import type { VariableScope } from './interpolate.js';
import { interpolate } from './interpolate.js';
import type { Problem } from './problem.js';
import { toPointer } from './problem.js';

/**
 * In list-form `environment`, `NAME=${SECRET_LOOKING}` becomes `NAME=` plus this
 * marker and the secret name; normalize turns it into { secret } (a list item
 * cannot hold a mapping). The NUL byte cannot come from YAML text itself.
 */
export const secretMarker = '\u0000secret:';

type Position = (offset: number) => { line: number; column: number };

/**
 * A plain scalar is re-typed after substitution, as compose casts it: `${REPLICAS:-2}` is the number 2.
 * Whole numbers and booleans only: a decimal such as a version "1.10" stays text (fields
 * that take decimals, like cpus, accept text too).
 */
function retype(text: string): string | number | boolean {
  if (/^[-+]?(0|[1-9][0-9]{0,14})$/.test(text)) return Number(text);
  if (/^(true|True|TRUE)$/.test(text)) return true;
  if (/^(false|False|FALSE)$/.test(text)) return false;
  return text;
}

function offsetOf(node: Scalar, index: number): number {
  const start = node.range?.[0] ?? 0;
  const quoted = node.type === Scalar.QUOTE_DOUBLE || node.type === Scalar.QUOTE_SINGLE;
  const block = node.type === Scalar.BLOCK_LITERAL || node.type === Scalar.BLOCK_FOLDED;
  return block ? start : start + index + (quoted ? 1 : 0);
}

function pathOf(ancestors: readonly unknown[], node: unknown): (string | number)[] {
  const segments: (string | number)[] = [];
  const chain = [...ancestors, node];
  for (let i = 0; i < chain.length; i++) {
    const item = chain[i];
    if (isSeq(item)) {
      const child = chain[i + 1];
      const index = item.items.indexOf(child as never);
      if (index >= 0) segments.push(index);
    } else if (isMap(item)) {
      const pair = chain[i + 1] as { key?: unknown } | undefined;
      if (pair && isScalar(pair.key)) segments.push(String(pair.key.value));
    }
  }
  return segments;
}

/**
 * Interpolates every string value (not keys) of a Service document (or a compose file) in place,
 * before aliases and merge keys are expanded and before schema validation.
 */
export function interpolateDocument(doc: Document, file: string, scope: VariableScope, position: Position): Problem[] {
  const problems: Problem[] = [];
  // A compose file that a Service extends (a mapping with services) is interpolated the same way.
  if (!isMap(doc.contents) || (doc.get('kind') !== 'Service' && !isMap(doc.get('services')))) return problems;
  visit(doc, {
    Scalar(key, node, ancestors) {
      if (key === 'key' || typeof node.value !== 'string' || !node.value.includes('$')) return undefined;
      const segments = pathOf(ancestors, node);
      const report = (message: string, index: number) => problems.push({ file, ...position(offsetOf(node, index)), path: toPointer(segments), message });
      // An environment block anywhere (also inside an x- fragment that a service merges in).
      const inEnvironment = segments.length >= 2 && segments[segments.length - 2] === 'environment';
      const listEnv = inEnvironment && typeof segments[segments.length - 1] === 'number';
      const eq = listEnv ? node.value.indexOf('=') : -1;
      const text = eq >= 0 ? node.value.slice(eq + 1) : node.value;
      const result = interpolate(text, scope);
      if (!result.ok) {
        report(result.message, result.index + eq + 1);
        return undefined;
      }
      if (result.secret !== undefined) {
        if (listEnv && eq >= 0) {
          node.value = `${node.value.slice(0, eq + 1)}${secretMarker}${result.secret}`;
          return undefined;
        }
        // Inside an x- fragment the use is not known yet: if it lands outside environment, the schema says so there.
        if (inEnvironment || String(segments[0]).startsWith('x-')) return doc.createNode({ secret: result.secret }) as Node;
        report(`uses \${${result.secret}}, whose name looks secret: it becomes a secret reference, which only an environment value can hold`, 0);
        return undefined;
      }
      const value = eq >= 0 ? `${node.value.slice(0, eq + 1)}${result.value}` : result.value;
      node.value = node.type === Scalar.PLAIN || node.type === undefined ? retype(value) : value;
      return undefined;
    },
  });
  return problems;
}
