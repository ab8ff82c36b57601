import { describe, expect, it } from 'vitest';
import type { EdgeSpec } from '../../../src/proxy/edge-spec.js';
import { draining, haproxyConfig, parseServersState, parseSessions, resolved, retireCommands, switchCommands } from '../../../src/proxy/haproxy-config.js';

const spec = (over: Partial<EdgeSpec> = {}): EdgeSpec => ({
  service: 'web',
  mode: 'tcp',
  image: 'haproxy:2.6-alpine',
  frontends: [{ port: 8080, bindings: [{ target: 8080, published: 18080, hostIp: '127.0.0.1', protocol: 'tcp' }] }],
  drainMs: 10_000,
  ...over,
});

// Captured from HAProxy 2.6.12 in the stand-in image.
const serversState = `1
# be_id be_name srv_id srv_name srv_addr srv_op_state srv_admin_state srv_uweight srv_iweight srv_time_since_last_change srv_check_status srv_check_result srv_check_health srv_check_state srv_agent_state bk_f_forced_id srv_f_forced_id srv_fqdn srv_port srvrecord srv_use_ssl srv_check_port srv_check_addr srv_agent_addr srv_agent_port
3 svc_8080 1 blue 172.18.0.2 2 0 1 1 1 1 0 2 0 0 0 0 web--blue 8080 - 0 0 - - 0
3 svc_8080 2 green - 0 37 1 1 1 1 0 0 8 0 0 0 web--green 8080 - 0 0 - - 0

`;
const stat = `# pxname,svname,qcur,qmax,scur,smax,slim,stot
port_8080,FRONTEND,,,3,5,,
svc_8080,blue,0,0,2,3,,
svc_8080,green,0,0,1,1,,
svc_8080,BACKEND,0,0,3,4,,

`;

describe('haproxyConfig', () => {
  it('forwards each published container port to two colour servers, the active one ready and the other disabled', () => {
    const text = haproxyConfig(spec(), 'blue');
    expect(text).toContain('stats socket ipv4@127.0.0.1:9999 level admin');
    expect(text).toContain('  mode tcp\n');
    expect(text).toContain('  nameserver dns 127.0.0.11:53');
    expect(text).toContain('frontend port_8080\n  bind :8080\n  default_backend svc_8080\n');
    expect(text).toContain('  server blue web--blue:8080 resolvers docker init-addr last,libc,none\n');
    // The idle colour is not looked up at start-up: an unknown name may block it for the resolver timeouts.
    expect(text).toContain('  server green web--green:8080 resolvers docker init-addr last,none disabled\n');
    expect(haproxyConfig(spec(), 'green')).toContain('  server blue web--blue:8080 resolvers docker init-addr last,none disabled\n');
    expect(haproxyConfig(spec(), 'green')).toContain('  server green web--green:8080 resolvers docker init-addr last,libc,none\n');
    expect(text).not.toContain('forwardfor');
  });

  it('http mode parses requests and adds X-Forwarded-For', () => {
    const text = haproxyConfig(spec({ mode: 'http' }), 'blue');
    expect(text).toContain('  mode http\n');
    expect(text).toContain('  option forwardfor\n');
  });

  it('one frontend per container port, however many host bindings it has', () => {
    const two = spec({
      frontends: [
        { port: 80, bindings: [{ target: 80, published: 8080, hostIp: '', protocol: 'tcp' }, { target: 80, published: 8081, hostIp: '', protocol: 'tcp' }] },
        { port: 9090, bindings: [{ target: 9090, published: 9090, hostIp: '', protocol: 'tcp' }] },
      ],
    });
    const text = haproxyConfig(two, 'blue');
    expect(text.match(/^frontend /gm)).toHaveLength(2);
    // Ready before drain: never a moment without a usable server.
    expect(switchCommands(two, 'green')).toEqual([
      'set server svc_80/green state ready',
      'set server svc_80/blue state drain',
      'set server svc_9090/green state ready',
      'set server svc_9090/blue state drain',
    ]);
    expect(retireCommands(two, 'green')).toEqual(['set server svc_80/blue state maint', 'set server svc_9090/blue state maint']);
  });

  it('bounds a soft stop by the drain period', () => {
    expect(haproxyConfig(spec({ drainMs: 2_500 }), 'blue')).toContain('hard-stop-after 3s');
  });
});

describe('runtime API answers', () => {
  it('reads which colours DNS resolved', () => {
    const states = parseServersState(serversState);
    expect(states).toEqual([
      { backend: 'svc_8080', server: 'blue', address: '172.18.0.2' },
      { backend: 'svc_8080', server: 'green', address: '-' },
    ]);
    expect(resolved(states, spec(), 'blue')).toBe(true);
    expect(resolved(states, spec(), 'green')).toBe(false);
    expect(resolved([], spec(), 'blue')).toBe(false);
  });

  it('counts the sessions left on the colours that drain', () => {
    const sessions = parseSessions(stat);
    expect(draining(sessions, spec(), 'green')).toBe(2);
    expect(draining(sessions, spec(), 'blue')).toBe(1);
    expect(draining(parseSessions(''), spec(), 'blue')).toBe(0);
  });
});
