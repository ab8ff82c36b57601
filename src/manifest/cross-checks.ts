import type { ParsedDocument } from './parse.js';
import type { PortBinding } from './ports.js';
import { formatBinding, hostPortsClash } from './ports.js';
import type { Problem } from './problem.js';
import { toPointer } from './problem.js';
import { didYouMean } from './suggest.js';
import type { EnvironmentManifest, ServiceManifest } from './types.js';

interface Located {
  doc: ParsedDocument;
  service: ServiceManifest;
}

function at(doc: ParsedDocument, segments: (string | number)[], message: string, where: 'key' | 'value' = 'value'): Problem {
  return { file: doc.file, ...doc.locate(segments, where), path: toPointer(segments), message };
}

function duplicates(services: Located[]): Problem[] {
  const first = new Map<string, Located>();
  const problems: Problem[] = [];
  for (const entry of services) {
    const seen = first.get(entry.service.name);
    if (!seen) {
      first.set(entry.service.name, entry);
      continue;
    }
    const where = seen.doc.locate(['name']);
    problems.push(at(entry.doc, ['name'], `service "${entry.service.name}" is defined twice (first at ${seen.doc.file}:${where.line}:${where.column})`));
  }
  return problems;
}

/** container_name is the container's name on the host: two services cannot share one. */
function sharedContainerNames(services: Located[]): Problem[] {
  const first = new Map<string, Located>();
  const problems: Problem[] = [];
  for (const entry of services) {
    const name = entry.service.spec.containerName;
    if (!name) continue;
    const seen = first.get(name);
    if (!seen) first.set(name, entry);
    else problems.push(at(entry.doc, ['container_name'], `container name "${name}" is already used by service "${seen.service.name}"`));
  }
  return problems;
}

function unknownDependencies(services: Located[], names: string[], invalid: readonly string[]): Problem[] {
  const problems: Problem[] = [];
  for (const { doc, service } of services) {
    const raw = doc.value as { depends_on?: unknown };
    Object.keys(service.dependsOn).forEach((dep, i) => {
      if (names.includes(dep) || invalid.includes(dep)) return; // an invalid one has its own problems
      const suggestion = didYouMean(dep, names);
      const segments = Array.isArray(raw.depends_on) ? ['depends_on', i] : ['depends_on', dep];
      const hint = suggestion ? `; did you mean "${suggestion}"?` : '';
      problems.push(at(doc, segments, `names unknown service "${dep}" (services here: ${names.join(', ')})${hint}`, Array.isArray(raw.depends_on) ? 'value' : 'key'));
    });
    if (service.dependsOn[service.name]) problems.push(at(doc, ['depends_on'], `service "${service.name}" cannot depend on itself`));
  }
  return problems;
}

/** Every dependency cycle once, named in order from its alphabetically first service: a → b → c → a. */
export function findCycles(graph: ReadonlyMap<string, readonly string[]>): string[][] {
  const cycles = new Map<string, string[]>();
  const state = new Map<string, 'visiting' | 'done'>();
  const stack: string[] = [];
  const visit = (node: string) => {
    state.set(node, 'visiting');
    stack.push(node);
    for (const next of graph.get(node) ?? []) {
      if (!graph.has(next) || next === node) continue;
      if (state.get(next) === 'visiting') {
        const cycle = stack.slice(stack.indexOf(next));
        const start = cycle.indexOf([...cycle].sort()[0]!);
        const rotated = [...cycle.slice(start), ...cycle.slice(0, start)];
        cycles.set(rotated.join('\0'), rotated);
      } else if (!state.has(next)) visit(next);
    }
    stack.pop();
    state.set(node, 'done');
  };
  for (const node of [...graph.keys()].sort()) if (!state.has(node)) visit(node);
  return [...cycles.values()];
}

function cycles(services: Located[]): Problem[] {
  const graph = new Map(services.map(({ service }) => [service.name, Object.keys(service.dependsOn)]));
  const byName = new Map(services.map((s) => [s.service.name, s]));
  return findCycles(graph).map((cycle) => {
    const { doc } = byName.get(cycle[0]!)!;
    return at(doc, ['depends_on'], `dependency cycle: ${[...cycle, cycle[0]].join(' → ')}`);
  });
}

function portClashes(services: Located[]): Problem[] {
  const problems: Problem[] = [];
  const claimed: { binding: PortBinding; entry: Located }[] = [];
  for (const entry of services) {
    const fixed = entry.service.spec.ports.filter((p) => p.published !== null);
    if (fixed.length > 0 && entry.service.replicas > 1) {
      problems.push(
        at(entry.doc, ['deploy', 'replicas'], `${entry.service.replicas} replicas cannot share the fixed host port ${formatBinding(fixed[0]!)}; publish an ephemeral port or use 1 replica`),
      );
    }
    for (const binding of fixed) {
      const clash = claimed.find((c) => c.entry !== entry && hostPortsClash(c.binding, binding));
      if (clash) {
        const where = clash.entry.doc.locate(['ports']);
        problems.push(
          at(
            entry.doc,
            ['ports'],
            `host port ${binding.published}/${binding.protocol} is already published by service "${clash.entry.service.name}" (${clash.entry.doc.file}:${where.line}:${where.column})`,
          ),
        );
      }
      claimed.push({ binding, entry });
    }
  }
  return problems;
}

function testReferences(services: Located[], env: { doc: ParsedDocument; environment: EnvironmentManifest } | undefined): Problem[] {
  if (!env) return [];
  const names = services.map((s) => s.service.name);
  const problems: Problem[] = [];
  const seen = new Set<string>();
  env.environment.tests.forEach((test, i) => {
    if (seen.has(test.name)) problems.push(at(env.doc, ['tests', i, 'name'], `test name "${test.name}" is used twice`));
    seen.add(test.name);
    if (test.exec && !names.includes(test.exec.service)) {
      const suggestion = didYouMean(test.exec.service, names);
      problems.push(at(env.doc, ['tests', i, 'exec', 'service'], `names unknown service "${test.exec.service}" (services here: ${names.join(', ') || 'none'})${suggestion ? `; did you mean "${suggestion}"?` : ''}`));
    }
  });
  return problems;
}

/** What a schema cannot check: uniqueness, references, cycles, host port clashes. */
export function crossCheckServices(services: Located[], env: { doc: ParsedDocument; environment: EnvironmentManifest } | undefined, invalid: readonly string[] = []): Problem[] {
  const names = [...new Set(services.map((s) => s.service.name))].sort();
  return [...duplicates(services), ...sharedContainerNames(services), ...unknownDependencies(services, names, invalid), ...cycles(services), ...portClashes(services), ...testReferences(services, env)];
}
