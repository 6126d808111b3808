/**
 * This worker's line for an instance's create slots. AWS allows 10 creates in flight per
 * instance, counted in the database across replicas (`intendCreate`). Grants that wait for a slot
 * queue here in order, and only the one at the head asks the database: at once when a create
 * finished here, otherwise every 250 ms (a slot another replica freed). Without the line, every
 * waiting grant would ask on every change: a herd of transactions for one free slot.
 *
 * One line per tenant of an instance: the database shares the slots fairly between tenants
 * (`intendCreate`), and a line shared by all of them would keep one tenant's grants behind
 * another's whole backlog.
 */
export type SlotAttempt = "go" | "no-slot" | "other";

const POLL_MS = 250;

export class CreateSlotLine {
  private readonly tails = new Map<string, Promise<unknown>>();
  /** Line → how to wake its head, and the instance it queues for. */
  private readonly heads = new Map<string, { instanceArn: string; wake: () => void }>();

  /**
   * Waits for this grant's turn, then asks (`attempt`) until it gets a slot or a different answer,
   * which it returns; the next grant in line goes next.
   */
  async take(
    line: { instanceArn: string; tenant: string },
    attempt: () => Promise<SlotAttempt>,
    stopped: () => boolean,
  ): Promise<SlotAttempt> {
    const { instanceArn } = line;
    const key = `${instanceArn}|${line.tenant}`;
    const previous = this.tails.get(key) ?? Promise.resolve();
    const turn = previous.then(async () => {
      for (;;) {
        if (stopped()) return "other" as const;
        const answer = await attempt();
        if (answer !== "no-slot") return answer;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          this.heads.set(key, {
            instanceArn,
            wake: () => {
              clearTimeout(timer);
              resolve();
            },
          });
        });
        this.heads.delete(key);
      }
    });
    const settled = turn.catch(() => undefined);
    this.tails.set(key, settled);
    try {
      return await turn;
    } finally {
      if (this.tails.get(key) === settled) this.tails.delete(key);
    }
  }

  /** A slot may have come free: the heads of the lines (of one instance, or of all) ask now. */
  freed(instanceArn?: string): void {
    for (const head of [...this.heads.values()]) if (instanceArn === undefined || head.instanceArn === instanceArn) head.wake();
  }
}
