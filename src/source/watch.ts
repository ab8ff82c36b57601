import { existsSync } from 'node:fs';
import path from 'node:path';
import { watch } from 'chokidar';

/**
 * Watches the refs of a local repository (bare or not) and calls onMove
 * (debounced) when a commit lands, so a local commit deploys within a second
 * instead of at the next poll.
 */
export function watchLocalRepo(repo: string, onMove: () => void, debounceMs = 50): { close(): Promise<void> } {
  const gitDir = existsSync(path.join(repo, '.git')) ? path.join(repo, '.git') : repo;
  const targets = [path.join(gitDir, 'refs', 'heads'), path.join(gitDir, 'packed-refs')];
  const watcher = watch(targets, { ignoreInitial: true, depth: 5 });
  let timer: NodeJS.Timeout | undefined;
  const fire = (file: string) => {
    if (file.endsWith('.lock')) return;
    if (timer) clearTimeout(timer);
    timer = setTimeout(onMove, debounceMs);
  };
  watcher.on('add', fire).on('change', fire).on('unlink', fire);
  return {
    close: async () => {
      if (timer) clearTimeout(timer);
      await watcher.close();
    },
  };
}
