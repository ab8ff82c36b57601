import { edgeColorOf } from '../../src/proxy/edge-plan.js';
import { edgeImage, edgeLabels } from '../../src/proxy/edge-spec.js';
import type { EdgeColor } from '../../src/proxy/edge-spec.js';
import { labels } from '../../src/runtime/labels.js';
import type { FakeRuntime } from './fake-runtime.js';

/**
 * An in-memory HAProxy behind FakeRuntime.exec: answers the runtime API
 * commands stagecoach sends to a proxy container (show servers state, show
 * stat, set server ... state ...) and records the configuration file it
 * writes. A colour "resolves" when a running container of the service carries
 * it, as Docker's DNS would answer for its alias.
 */
export class FakeEdge {
  /** Per proxy name: `<backend>/<server>` → admin state (ready, drain, maint). */
  readonly states = new Map<string, Map<string, string>>();
  /** Per proxy name: the configuration file last written. */
  readonly files = new Map<string, string>();
  /** Every runtime API command, as `<proxy>: <command>`. */
  readonly commands: string[] = [];
  /** Sessions reported on a draining server, per proxy name, consumed one per `show stat`. */
  readonly openSessions = new Map<string, number>();

  constructor(private readonly runtime: FakeRuntime) {
    runtime.addImage(edgeImage);
    runtime.execHandler = (c, command) => {
      const service = c.labels[edgeLabels.edgeFor];
      if (!service) return undefined;
      if (c.state !== 'running') return { exitCode: 1, output: 'container is not running' };
      const [, , script, , arg] = command;
      if (script?.includes('mv ')) {
        this.files.set(c.name, arg ?? '');
        return { exitCode: 0, output: '' };
      }
      return { exitCode: 0, output: (arg ?? '').split('; ').map((cmd) => this.answer(c.name, service, c.create.env.STAGECOACH_EDGE_CONFIG ?? '', cmd)).join('') };
    };
  }

  private backends(config: string): string[] {
    return [...config.matchAll(/^backend (\S+)$/gm)].map((m) => m[1]!);
  }

  private resolves(service: string, color: EdgeColor): boolean {
    return [...this.runtime.containers.values()].some((c) => c.labels[labels.service] === service && edgeColorOf(c.labels) === color && c.state === 'running');
  }

  private answer(proxy: string, service: string, config: string, cmd: string): string {
    this.commands.push(`${proxy}: ${cmd}`);
    const states = this.states.get(proxy) ?? new Map<string, string>();
    this.states.set(proxy, states);
    if (cmd === 'show servers state') {
      const rows = this.backends(config).flatMap((b) => (['blue', 'green'] as const).map((color, i) => `3 ${b} ${i + 1} ${color} ${this.resolves(service, color) ? `172.18.0.${i + 2}` : '-'} 2 0 1 1 0`));
      return `1\n# be_id be_name srv_id srv_name srv_addr ...\n${rows.join('\n')}\n\n`;
    }
    if (cmd === 'show stat') {
      const left = this.openSessions.get(proxy) ?? 0;
      if (left > 0) this.openSessions.set(proxy, left - 1);
      const rows = this.backends(config).flatMap((b) => [...states.entries()].filter(([k, v]) => k.startsWith(`${b}/`) && v === 'drain').map(([k]) => `${b},${k.split('/')[1]},0,0,${left},1`));
      return `# pxname,svname,qcur,qmax,scur,smax\n${rows.join('\n')}\n\n`;
    }
    const set = /^set server (\S+) state (ready|drain|maint)$/.exec(cmd);
    if (set) {
      states.set(set[1]!, set[2]!);
      return '';
    }
    return `Unknown command: ${cmd}\n`;
  }

  /** The colour each backend's ready server has, per proxy. */
  serving(proxy: string): string[] {
    return [...(this.states.get(proxy)?.entries() ?? [])].filter(([, v]) => v === 'ready').map(([k]) => k).sort();
  }
}
