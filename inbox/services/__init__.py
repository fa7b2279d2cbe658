"""Inbox's state changes. Import from here; the submodules split them by sub-domain:

- `ingest`: what arrives from the platforms (messages, echoes, receipts, edits, deletions),
  one event at a time or in batches (`batch`: customer messages set-wise; `sanitise`);
- `replies`: agents' replies, queued, sent and marked;
- `triage`: what agents do to a conversation (status, priority, tags, notes, reads, resends),
  and the language and sentiment assist finds in it.
"""

from inbox.services.ingest import (
    customer_identity_upsert,
    echo_ingest,
    event_ingest,
    events_ingest,
    message_delete_apply,
    message_edit_apply,
    message_ingest,
    receipt_apply,
)
from inbox.services.replies import (
    replies_stuck,
    reply_fail,
    reply_mark_sent,
    reply_queue,
    reply_send,
)
from inbox.services.triage import (
    conversation_mark_read,
    conversation_priority_set,
    conversation_status_set,
    conversation_tags_set,
    conversations_classification_set,
    note_create,
    reply_resend,
)

__all__ = [
    "conversation_mark_read",
    "conversation_priority_set",
    "conversation_status_set",
    "conversation_tags_set",
    "conversations_classification_set",
    "customer_identity_upsert",
    "echo_ingest",
    "event_ingest",
    "events_ingest",
    "message_delete_apply",
    "message_edit_apply",
    "message_ingest",
    "note_create",
    "receipt_apply",
    "replies_stuck",
    "reply_fail",
    "reply_mark_sent",
    "reply_queue",
    "reply_resend",
    "reply_send",
]
