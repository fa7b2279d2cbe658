"""The console's suggestion fragment and the feedback on it. The conversation is looked up
through the console's own selector, so an agent reaches only conversations they may see."""

from django.http import HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from assist.forms import SuggestionFeedbackForm
from assist.services import suggestion_feedback_record
from assist.suggestions import reply_suggestions
from inbox.selectors.console import console_conversation
from inbox.views import HtmxHttpRequest, InvalidInput, console_login_required


@console_login_required
@require_GET
def suggestions(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    conversation = console_conversation(user=request.user, conversation_id=pk, now=timezone.now())
    context = {
        "conversation": conversation,
        "suggestions": reply_suggestions(conversation=conversation, agent=request.user),
        "suggestions_loaded": True,
    }
    return render(request, "inbox/_suggestions.html", context)


@console_login_required
@require_POST
def suggestion_feedback(request: HtmxHttpRequest, pk: int) -> HttpResponse:
    conversation = console_conversation(user=request.user, conversation_id=pk, now=timezone.now())
    form = SuggestionFeedbackForm(request.POST)
    if not form.is_valid():
        raise InvalidInput("That feedback is not valid.", extra={"errors": form.errors.get_json_data()})
    suggestion_feedback_record(conversation=conversation, agent=request.user, **form.cleaned_data)
    if not request.htmx:
        return HttpResponseRedirect(reverse("console:conversation", args=[pk]))
    return HttpResponse(status=200)  # htmx swaps the dismissed suggestion away with this empty body
