/**
 * @module The interop facet's routes: content-addressed objects, webhook bridges, the mailbox
 * and the audit log. Mounted by the interop worker and by micronode.
 */
import { createRouter } from "../../shared/middleware";
import { auditTail, auditVerify } from "./audit-routes";
import { getObject, headObject } from "./get-object";
import { mailboxAck, mailboxDeadLetters, mailboxNack, mailboxRecv, mailboxSend } from "./mailbox-routes";
import { putObject } from "./put-object";
import { putStreamObject } from "./put-stream";
import { abortUpload, completeUpload, createUpload, putPart } from "./uploads";
import { receiveWebhook } from "./webhook";

export const interopRoutes = createRouter({
  "/o/:addr": { GET: getObject, HEAD: headObject, PUT: putStreamObject },
  "/put": { POST: putObject },
  "/uploads": { POST: createUpload },
  "/uploads/:id": { DELETE: abortUpload },
  "/uploads/:id/complete": { POST: completeUpload },
  "/uploads/:id/:n": { PUT: putPart },
  "/webhooks/:provider": { POST: receiveWebhook },
  "/mailbox/send": { POST: mailboxSend },
  "/mailbox/recv": { POST: mailboxRecv },
  "/mailbox/ack/:msg_id": { POST: mailboxAck },
  "/mailbox/nack/:msg_id": { POST: mailboxNack },
  "/mailbox/dlq": { POST: mailboxDeadLetters },
  "/audit/verify": { GET: auditVerify },
  "/audit/tail": { GET: auditTail },
});
