/**
 * The new containers of an apply being created and started right now. The
 * engine does much of that work one container at a time (network sandboxes),
 * and so it does retiring old containers (stop, remove): a retire gives way
 * to the bring-ups in flight, so the last new container of a wave starts
 * (and so turns healthy) sooner, and the retires run while it proves itself.
 */
export class BringUps {
  private inFlight = 0;
  private waiters: (() => void)[] = [];

  /** Counts one container's create and start from now; call the returned function (once is enough) when its start call returned or failed. */
  begin(): () => void {
    this.inFlight += 1;
    let ended = false;
    return () => {
      if (ended) return;
      ended = true;
      this.inFlight -= 1;
      if (this.inFlight === 0) for (const wake of this.waiters.splice(0)) wake();
    };
  }

  /** Resolves when no bring-up is in flight: at once if none is. Never waits on one that begins later. */
  settled(): Promise<void> {
    if (this.inFlight === 0) return Promise.resolve();
    return new Promise((resolve) => this.waiters.push(resolve));
  }
}
