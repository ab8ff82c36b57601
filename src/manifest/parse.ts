import { LineCounter, isMap, isPair, isScalar, isSeq, parseAllDocuments } from 'yaml';
import type { Document, Node, Pair } from 'yaml';
import type { Problem } from './problem.js';
import { collectMergeMarks, mergeTags } from './merge-tags.js';
import type { MergeMarks } from './merge-tags.js';

const noMarks: ReturnType<typeof collectMergeMarks> = { misplaced: [] };

/** Aliases a document may expand; a "billion laughs" bomb needs far more. */
const maxAliasCount = 100;

export interface ParsedDocument {
  file: string;
  /** 0-based index of the document in its file. */
  index: number;
  value: unknown;
  /** The transform (interpolation) reported problems: the value is not fit to validate. */
  transformFailed?: boolean;
  /**
   * Line and column of the node at a path (or of the deepest ancestor that exists). A service merged
   * from an `extends` base also names the file when the field was written there.
   */
  locate(path: readonly (string | number)[], at?: 'key' | 'value'): { line: number; column: number; file?: string };
  /** Where compose's `!reset` and `!override` tags are (merge-tags.ts); extends acts on them. */
  merge?: MergeMarks;
}

export interface ParseOptions {
  /** Runs on each well-formed document before aliases and merge keys expand (compose interpolation). */
  transform?: (doc: Document, position: (offset: number) => { line: number; column: number }) => Problem[];
}

export interface ParseResult {
  documents: ParsedDocument[];
  problems: Problem[];
}

function cleanMessage(message: string): string {
  return message.replace(/ at line \d+, column \d+:?[\s\S]*$/, '').trim();
}

/**
 * Parses every document of a YAML file safely: duplicate keys, unknown tags
 * (`!!js/function` and friends stay inert) and alias bombs are problems, not values.
 */
export function parseYamlFile(file: string, text: string, options: ParseOptions = {}): ParseResult {
  const lineCounter = new LineCounter();
  const position = (offset: number) => {
    const { line, col } = lineCounter.linePos(offset);
    return { line, column: col };
  };
  const problems: Problem[] = [];
  const documents: ParsedDocument[] = [];
  let parsed: ReturnType<typeof parseAllDocuments>;
  try {
    // uniqueKeys off: duplicateKeys() below does the same check in linear time.
    parsed = parseAllDocuments(text, { lineCounter, uniqueKeys: false, strict: true, prettyErrors: false, schema: 'core', merge: true, customTags: mergeTags });
  } catch (error) {
    return { documents, problems: [{ file, message: `YAML cannot be parsed: ${(error as Error).message}` }] };
  }
  const docs = Array.isArray(parsed) ? parsed : [];
  // A walk of every node per document, on the path of every plan: only when the text names a merge tag.
  const mayHoldMergeTags = text.includes('!reset') || text.includes('!override');
  docs.forEach((doc, index) => {
    const issues = [...doc.errors, ...doc.warnings, ...duplicateKeys(doc)];
    for (const issue of issues) {
      const where = position(issue.pos[0]);
      let message = cleanMessage(issue.message);
      if (issue.code === 'DUPLICATE_KEY') message = `duplicate key: ${duplicateKeyName(text, issue.pos[0])}`;
      if (issue.code === 'TAG_RESOLVE_FAILED') message = `unsupported YAML tag ${tagName(message)}: the only tags allowed in manifests are compose's !reset and !override`;
      problems.push({ file, ...where, message: issue.code === 'DUPLICATE_KEY' || issue.code === 'TAG_RESOLVE_FAILED' ? message : `YAML syntax error: ${message}` });
    }
    if (issues.length > 0 || doc.contents === null) return;
    const { marks, misplaced } = mayHoldMergeTags ? collectMergeMarks(doc) : noMarks;
    for (const m of misplaced) problems.push({ file, ...position(m.offset), message: `${m.tag} applies to a field's value (compose's merge rules for extends), not to a list item or a whole document` });
    if (misplaced.length > 0) return;
    octalModes(doc);
    const transformed = options.transform?.(doc, position) ?? [];
    problems.push(...transformed);
    let value: unknown;
    try {
      value = doc.toJS({ maxAliasCount });
    } catch (error) {
      const message = (error as Error).message.includes('Excessive alias count')
        ? `too many alias expansions (more than ${maxAliasCount}): refused as a possible YAML bomb`
        : `YAML cannot be read: ${(error as Error).message}`;
      problems.push({ file, ...position(doc.range?.[0] ?? 0), message });
      return;
    }
    if (value === null || value === undefined) return; // an empty document between --- markers
    documents.push({ file, index, value, ...(transformed.length ? { transformFailed: true } : {}), ...(marks ? { merge: marks } : {}), locate: (path, at = 'value') => locateIn(doc, path, at, position) });
  });
  return { documents, problems };
}

/**
 * `mode: 0440` is octal, as in compose files and every permission ever
 * written (compose's YAML reads a leading 0 as octal); YAML 1.2's core schema
 * would read 440. Only `mode` keys, only plain integers with a leading 0.
 */
function octalModes(doc: Document): void {
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      for (const pair of node.items) {
        const value = pair.value;
        if (isScalar(pair.key) && pair.key.value === 'mode' && isScalar(value) && typeof value.value === 'number' && /^0[0-7]+$/.test(value.source ?? '')) value.value = Number.parseInt(value.source as string, 8);
        stack.push(value);
      }
    } else if (isSeq(node)) {
      stack.push(...node.items);
    }
  }
}

/**
 * Duplicate keys in one pass with a set per mapping. yaml's own `uniqueKeys`
 * compares every key with every other one (40,000 keys stalled the event
 * loop for 35 s); this is linear in the number of keys.
 */
function duplicateKeys(doc: Document): { code: 'DUPLICATE_KEY'; pos: [number, number]; message: string }[] {
  const found: { code: 'DUPLICATE_KEY'; pos: [number, number]; message: string }[] = [];
  const stack: unknown[] = [doc.contents];
  while (stack.length > 0) {
    const node = stack.pop();
    if (isMap(node)) {
      const seen = new Set<string>();
      for (const pair of node.items) {
        const key = pair.key;
        if (isScalar(key) && key.value !== '<<') {
          const id = `${typeof key.value}:${String(key.value)}`;
          if (seen.has(id)) found.push({ code: 'DUPLICATE_KEY', pos: [key.range?.[0] ?? 0, key.range?.[1] ?? 0], message: 'duplicate key' });
          seen.add(id);
        }
        stack.push(pair.value);
      }
    } else if (isSeq(node)) {
      stack.push(...node.items);
    }
  }
  return found.sort((a, b) => a.pos[0] - b.pos[0]);
}

function duplicateKeyName(text: string, offset: number): string {
  const match = /^[^:\n]+/.exec(text.slice(offset));
  return match ? `"${match[0].trim().replace(/^["']|["']$/g, '')}" appears twice in the same mapping` : 'a key appears twice';
}

function tagName(message: string): string {
  const match = /tag:yaml\.org,2002:(\S+)/.exec(message);
  if (match) return `!!${match[1]}`;
  const other = /Unresolved tag: (\S+)/.exec(message);
  return other ? other[1]! : '';
}

function locateIn(
  doc: Document,
  path: readonly (string | number)[],
  at: 'key' | 'value',
  position: (offset: number) => { line: number; column: number },
): { line: number; column: number } {
  let node: Node | null = doc.contents as Node | null;
  let offset = node?.range?.[0] ?? 0;
  for (const segment of path) {
    if (!node) break;
    let pair: Pair | undefined;
    let child: unknown;
    if (isMap(node)) {
      pair = node.items.find((p) => isPair(p) && isScalar(p.key) && String(p.key.value) === String(segment));
      if (!pair) break;
      child = pair.value;
      const keyNode = pair.key as Node;
      if (at === 'key' && segment === path[path.length - 1]) return position(keyNode.range?.[0] ?? offset);
      offset = (child as Node | null)?.range?.[0] ?? keyNode.range?.[0] ?? offset;
    } else if (isSeq(node) && typeof segment === 'number') {
      child = node.items[segment];
      if (!child) break;
      offset = (child as Node).range?.[0] ?? offset;
    } else {
      break;
    }
    node = (child as Node | null) ?? null;
  }
  return position(offset);
}
