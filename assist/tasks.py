from celery import shared_task

from assist.services import conversation_learn, conversations_learn_missed


@shared_task(name="assist.conversation_learn")
def conversation_learn_task(conversation_id: int) -> None:
    conversation_learn(conversation_id=conversation_id)


@shared_task(name="assist.learn_sweep")
def learn_sweep_task() -> None:
    conversations_learn_missed()
