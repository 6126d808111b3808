/**
 * Every migration, in order. Imported explicitly (not globbed from disk) so the same list runs
 * from TypeScript sources under tests and from compiled JavaScript in the image.
 */
import type { Knex } from "knex";
import * as grants from "./0001_grants.js";
import * as mergeScanCursors from "./0002_merge_scan_cursors.js";
import * as provisioning from "./0003_provisioning.js";
import * as drift from "./0004_drift.js";
import * as accessRepositories from "./0005_access_repositories.js";
import * as tenantIsolation from "./0006_tenant_isolation.js";
import * as webhookInbox from "./0007_webhook_inbox.js";
import * as verdictComments from "./0008_verdict_comments.js";
import * as inboxPayloadJson from "./0009_inbox_payload_json.js";
import * as notifications from "./0010_notifications.js";
import * as extensionAndReminders from "./0011_extension_and_reminders.js";
import * as breakGlass from "./0012_break_glass.js";
import * as auditTrail from "./0013_audit_trail.js";
import * as sessionDuration from "./0014_session_duration.js";
import * as operationFinished from "./0015_operation_finished.js";

export interface Migration {
  up(knex: Knex): Promise<void>;
  down(knex: Knex): Promise<void>;
}

export const MIGRATIONS: ReadonlyArray<readonly [name: string, migration: Migration]> = [
  ["0001_grants", grants],
  ["0002_merge_scan_cursors", mergeScanCursors],
  ["0003_provisioning", provisioning],
  ["0004_drift", drift],
  ["0005_access_repositories", accessRepositories],
  ["0006_tenant_isolation", tenantIsolation],
  ["0007_webhook_inbox", webhookInbox],
  ["0008_verdict_comments", verdictComments],
  ["0009_inbox_payload_json", inboxPayloadJson],
  ["0010_notifications", notifications],
  ["0011_extension_and_reminders", extensionAndReminders],
  ["0012_break_glass", breakGlass],
  ["0013_audit_trail", auditTrail],
  ["0014_session_duration", sessionDuration],
  ["0015_operation_finished", operationFinished],
];
