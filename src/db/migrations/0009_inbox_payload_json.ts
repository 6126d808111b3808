/**
 * Webhook payloads are kept as `json` (the text GitHub sent, checked to be JSON) rather than
 * `jsonb`: nothing queries inside them, and converting 20–30 kB of JSON to jsonb was most of the
 * database's work when a burst of deliveries arrived (200 merge payloads: about 270 ms as jsonb,
 * 85 ms as json, on the 2-core benchmark machine). A delivery is answered only after it is stored,
 * so this is time every webhook waited.
 */
import type { Knex } from "knex";

export async function up(knex: Knex): Promise<void> {
  await knex.raw("alter table webhook_inbox alter column payload type json using payload::json");
}

export async function down(knex: Knex): Promise<void> {
  await knex.raw("alter table webhook_inbox alter column payload type jsonb using payload::jsonb");
}
