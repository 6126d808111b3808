/**
 * Many request files validated without holding the event loop: each file costs at most a few
 * milliseconds (the 8 KiB limit, at most 20 problems described), and the loop gets a turn between
 * files, so one pull request full of hostile files never stalls other tenants' webhooks or the
 * worker's expiry timers. The pure reviews take the results instead of validating again.
 */
import { setImmediate as nextTurn } from "node:timers/promises";
import { validateRequest, type ReviewContext, type RequestReview } from "./validate-request.js";

export async function validateEach(
  files: readonly { path: string; bytes: Uint8Array }[],
  context: ReviewContext,
): Promise<Map<string, RequestReview>> {
  const reviews = new Map<string, RequestReview>();
  for (const file of files) {
    reviews.set(file.path, validateRequest(file.path, file.bytes, context));
    await nextTurn();
  }
  return reviews;
}
