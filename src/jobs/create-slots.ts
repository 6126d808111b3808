/**
 * This worker's line for an instance's create slots. AWS allows 10 creates in flight per
 * instance, counted in the database across replicas (`intendCreate`). Grants that wait for a slot
 * queue here in order, and only the one at the head asks the database: at once when a create
 * finished here, otherwise every 250 ms (a slot another replica freed). Without the line, every
 * waiting grant would ask on every change: a herd of transactions for one free slot.
 */
export type SlotAttempt = "go" | "no-slot" | "other";

const POLL_MS = 250;

export class CreateSlotLine {
  private readonly tails = new Map<string, Promise<unknown>>();
  private readonly heads = new Map<string, () => void>();

  /**
   * Waits for this grant's turn, then asks (`attempt`) until it gets a slot or a different answer,
   * which it returns; the next grant in line goes next.
   */
  async take(instanceArn: string, attempt: () => Promise<SlotAttempt>, stopped: () => boolean): Promise<SlotAttempt> {
    const previous = this.tails.get(instanceArn) ?? Promise.resolve();
    const turn = previous.then(async () => {
      for (;;) {
        if (stopped()) return "other" as const;
        const answer = await attempt();
        if (answer !== "no-slot") return answer;
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, POLL_MS);
          this.heads.set(instanceArn, () => {
            clearTimeout(timer);
            resolve();
          });
        });
        this.heads.delete(instanceArn);
      }
    });
    const settled = turn.catch(() => undefined);
    this.tails.set(instanceArn, settled);
    try {
      return await turn;
    } finally {
      if (this.tails.get(instanceArn) === settled) this.tails.delete(instanceArn);
    }
  }

  /** A slot may have come free: the head of the line (of one instance, or of all) asks now. */
  freed(instanceArn?: string): void {
    for (const [instance, wake] of this.heads) if (instanceArn === undefined || instance === instanceArn) wake();
  }
}
