/**
 * This worker's line for an instance's create slots. AWS allows 10 creates in flight per
 * instance, counted in the database across replicas (`intendCreates`). Grants that wait for a slot
 * queue here in order, and the line asks the database for the first of them (as many as there can
 * be slots) at once, in one transaction, in their order: at once when a create finished here, otherwise every 250 ms (a slot
 * another replica freed). Without the line, every waiting grant would ask on every change: a herd
 * of transactions for one free slot. Asking for the whole line at once matters when a wave of
 * creates finishes together: its ten slots are taken in one transaction, and the next wave of
 * creates leaves together instead of one transaction after another.
 *
 * One line per tenant of an instance: the database shares the slots fairly between tenants
 * (`intendCreates`), and a line shared by all of them would keep one tenant's grants behind
 * another's whole backlog.
 */
const POLL_MS = 250;

/** Asks for slots for these requests, in order; one answer each. */
export type AskForSlots<R, A> = (requests: R[]) => Promise<A[]>;

interface Waiting<R, A> {
  request: R;
  /** Told it is near the head of the line (see `near`). */
  warned: boolean;
  stopped: () => boolean;
  resolve(answer: A | "stopped"): void;
  reject(error: unknown): void;
}

interface Line<R, A> {
  instanceArn: string;
  queue: Waiting<R, A>[];
  running: boolean;
  /** Set while it sleeps: ends the sleep. */
  wake?: () => void;
  /** A slot came free while the line was asking: ask again at once, not after a sleep. */
  nudged: boolean;
  /** Told, by `freed`, what the next ask handed a slot (or a final answer) to. */
  afterNextAsk: ((started: R[]) => void)[];
}

export class CreateSlotLine<R, A> {
  private readonly lines = new Map<string, Line<R, A>>();

  constructor(
    private readonly ask: AskForSlots<R, A>,
    /** Whether an answer means "no slot yet": the request stays in line. */
    private readonly waits: (answer: A, request: R) => boolean,
    /**
     * How many from the head of the line ask at once: no more than there can be slots (AWS's 10).
     * Asking for the whole line would lock every waiting grant's assignment in one transaction:
     * with a backlog of a thousand, each ask took longer than the wave it was meant to start.
     */
    private readonly batchSize: number,
    /**
     * Told once when a request comes within two batches of the head of the line: what it needs
     * to send its create (a role session's credentials) is prepared while it waits, not after it
     * got its slot, where every millisecond keeps the slot idle.
     */
    private readonly near: (request: R) => void = () => undefined,
  ) {}

  /**
   * Waits in line until the database gives this request an answer that is not "no slot yet" (a
   * slot, or a reason it cannot have one), which it returns; "stopped" once `stopped()` says so.
   */
  take(line: { instanceArn: string; tenant: string }, request: R, stopped: () => boolean): Promise<A | "stopped"> {
    const key = `${line.instanceArn}|${line.tenant}`;
    let found = this.lines.get(key);
    if (!found) {
      found = { instanceArn: line.instanceArn, queue: [], running: false, nudged: false, afterNextAsk: [] };
      this.lines.set(key, found);
    }
    const current = found;
    return new Promise((resolve, reject) => {
      // Joining a running line asks nothing: if the line sleeps, it has no slot for a newcomer either.
      current.queue.push({ request, warned: false, stopped, resolve, reject });
      if (!current.running) void this.run(key, current);
    });
  }

  /**
   * A slot may have come free: the lines (of one instance, or of all) ask now. Resolves, once each
   * of them has asked and handed out the answers, with the requests that left the line (with a
   * slot, or with an answer that ends their wait).
   */
  freed(instanceArn?: string): Promise<R[]> {
    const lines = [...this.lines.values()].filter((line) => instanceArn === undefined || line.instanceArn === instanceArn);
    return Promise.all(lines.map((line) => this.nudge(line))).then((started) => started.flat());
  }

  private nudge(line: Line<R, A>): Promise<R[]> {
    const asked = new Promise<R[]>((resolve) => line.afterNextAsk.push(resolve));
    if (line.wake) line.wake();
    else line.nudged = true;
    return asked;
  }

  private async run(key: string, line: Line<R, A>): Promise<void> {
    line.running = true;
    try {
      for (;;) {
        for (const entry of line.queue.filter((waiting) => waiting.stopped())) this.leave(line, entry).resolve("stopped");
        if (line.queue.length === 0) return;
        const asked = line.queue.slice(0, this.batchSize);
        for (const entry of line.queue.slice(0, 2 * this.batchSize)) {
          if (entry.warned) continue;
          entry.warned = true;
          this.near(entry.request);
        }
        line.nudged = false;
        // Those who nudged the line before this ask hear what it started.
        const told = line.afterNextAsk.splice(0);
        let answers: A[];
        try {
          answers = await this.ask(asked.map((entry) => entry.request));
        } catch (error) {
          for (const entry of asked) this.leave(line, entry).reject(error);
          for (const tell of told) tell([]);
          continue;
        }
        let noSlot = false;
        const started: R[] = [];
        asked.forEach((entry, index) => {
          const answer = answers[index]!;
          if (this.waits(answer, entry.request)) noSlot = true;
          else {
            this.leave(line, entry).resolve(answer);
            started.push(entry.request);
          }
        });
        for (const tell of told) tell(started);
        // Everyone asked got an answer, or a slot came free meanwhile: ask again at once.
        if (!noSlot || line.nudged) continue;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          line.wake = () => {
            clearTimeout(timer);
            resolve();
          };
        });
        line.wake = undefined;
      }
    } finally {
      line.running = false;
      // An empty line asks nothing more: whoever waits for its next ask hears that nothing started.
      for (const tell of line.afterNextAsk.splice(0)) tell([]);
      if (this.lines.get(key) === line && line.queue.length === 0) this.lines.delete(key);
    }
  }

  private leave(line: Line<R, A>, entry: Waiting<R, A>): Waiting<R, A> {
    line.queue.splice(line.queue.indexOf(entry), 1);
    return entry;
  }
}
