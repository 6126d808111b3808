/**
 * Writes audit events to a stream as JSON Lines or CSV, in constant memory: lines are gathered
 * into chunks of about 64 KiB, and the next chunk (so the next batch from the database's cursor)
 * is produced only when the destination has taken the last one (stream backpressure).
 */
import { Readable, type Writable } from "node:stream";
import { pipeline } from "node:stream/promises";
import type { AuditEvent } from "./audit-event.js";
import { exportLine, exportPreamble, type AuditFormat } from "./audit-format.js";

const CHUNK_CHARS = 64 * 1024;

export interface ExportOptions {
  /** End the destination when done (false for process.stdout, which must stay open). */
  end?: boolean;
}

/** Returns how many events were written. */
export async function writeAuditExport(
  events: AsyncIterable<AuditEvent>,
  format: AuditFormat,
  out: Writable,
  options: ExportOptions = {},
): Promise<number> {
  let count = 0;
  async function* chunks(): AsyncGenerator<string> {
    let chunk = exportPreamble(format);
    for await (const event of events) {
      chunk += exportLine(event, format);
      count += 1;
      if (chunk.length >= CHUNK_CHARS) {
        yield chunk;
        chunk = "";
      }
    }
    if (chunk) yield chunk;
  }
  await pipeline(Readable.from(chunks(), { objectMode: false }), out, { end: options.end ?? true });
  return count;
}
