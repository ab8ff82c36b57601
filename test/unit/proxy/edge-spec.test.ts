import { describe, expect, it } from 'vitest';
import { edgeCreate, withEdge } from '../../../src/proxy/edge-container.js';
import { edgeDecision, edgeHash } from '../../../src/proxy/edge-spec.js';
import { buildCreate } from '../../../src/reconcile/container-spec.js';
import { environment, svc } from '../reconcile/support.js';

const service = async (extra: string) => (await environment({ 'web.yaml': svc('web', extra) })).services[0]!;

describe('edgeDecision', () => {
  it.each([
    ['no ports', '', false, undefined],
    ['only an ephemeral host port', 'ports: ["8080"]\n', false, undefined],
    ['a fixed tcp port', 'ports: ["127.0.0.1:8080:80"]\n', true, undefined],
    ['a fixed port, edge: http', 'ports: ["8080:80"]\nedge: http\n', true, undefined],
    ['a fixed port, edge: off', 'ports: ["8080:80"]\nedge: off\n', false, 'stop-first: a fixed host port is published and edge is off'],
    ['a fixed udp port', 'ports: ["8080:80", "5353:53/udp"]\n', false, 'stop-first: 5353:53/udp is UDP, which the edge proxy cannot carry'],
  ])('%s', async (_name, extra, proxied, reason) => {
    const decision = edgeDecision(await service(extra));
    expect(decision.proxied).toBe(proxied);
    if (!decision.proxied) expect(decision.reason).toBe(reason);
  });

  it('takes mode, ports and drain period from the service, and hashes what shapes the proxy', async () => {
    const decision = edgeDecision(await service('ports: ["127.0.0.1:8080:80", "8443:443"]\nstop_grace_period: 3s\nedge: http\n'));
    expect(decision).toMatchObject({ proxied: true, spec: { service: 'web', mode: 'http', drainMs: 3_000, frontends: [{ port: 80 }, { port: 443 }] } });
    const hash = (extra: string) => (async () => {
      const d = edgeDecision(await service(extra));
      return d.proxied ? edgeHash(d.spec) : '';
    })();
    expect(await hash('ports: ["8080:80"]\n')).toBe(await hash('ports: ["8080:80"]\nenvironment: { A: "1" }\n'));
    expect(await hash('ports: ["8080:80"]\n')).not.toBe(await hash('ports: ["8081:80"]\n'));
    expect(await hash('ports: ["8080:80"]\n')).not.toBe(await hash('ports: ["8080:80"]\nedge: http\n'));
  });
});

describe('the containers', () => {
  it('a service container behind the proxy publishes none of the fixed ports (not even on a random host port) and answers to its colour alias', async () => {
    const env = await environment({ 'web.yaml': svc('web', 'ports: ["127.0.0.1:8080:80", "9000"]\n') });
    const create = withEdge(buildCreate(env, env.services[0]!, 1, 'candidate', 'r1', () => 'x'), 'green');
    // Only the port the user left to the engine stays; published: null would mean "any free host port on 0.0.0.0".
    expect(create.ports).toEqual([{ target: 9000, published: null, hostIp: '', protocol: 'tcp' }]);
    expect(create.aliases).toEqual(['web', 'web--green']);
    expect(create.labels['io.stagecoach.edge-color']).toBe('green');
  });

  it('the proxy publishes the host ports, is labelled like any managed container, and starts from its configuration', async () => {
    const env = await environment({ 'web.yaml': svc('web', 'ports: ["127.0.0.1:8080:80"]\n') });
    const decision = edgeDecision(env.services[0]!);
    if (!decision.proxied) throw new Error('expected a proxy');
    const create = edgeCreate('testing', decision.spec, 'blue', 'r1');
    expect(create).toMatchObject({
      name: 'testing-web.edge',
      image: 'haproxy:2.6-alpine',
      ports: [{ target: 80, published: 8080, hostIp: '127.0.0.1', protocol: 'tcp' }],
      network: 'stagecoach-testing',
      aliases: [],
      restart: 'unless-stopped',
      labels: { 'io.stagecoach.managed': 'true', 'io.stagecoach.environment': 'testing', 'io.stagecoach.edge-for': 'web', 'io.stagecoach.edge-hash': edgeHash(decision.spec) },
    });
    expect(create.labels['io.stagecoach.service']).toBeUndefined();
    expect(create.env.STAGECOACH_EDGE_CONFIG).toContain('server blue web--blue:80');
    expect(create.command![0]).toContain('exec haproxy -db -f /tmp/stagecoach-edge.cfg');
  });
});
