"""Assist's state changes, split by sub-domain:

- `classify`: language and sentiment of customer messages, called by inbox's ingest;
- `learn`: the team's answers kept as resolved conversations close, and suggestion feedback.

`classify` imports inbox's services, which import it back while they load: import it from
its module, not from here.
"""

from assist.services.learn import (
    conversation_learn,
    conversations_learn_missed,
    suggestion_feedback_record,
)

__all__ = ["conversation_learn", "conversations_learn_missed", "suggestion_feedback_record"]
