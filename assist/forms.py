from django import forms

from assist.models import SuggestionFeedback


class SuggestionFeedbackForm(forms.Form):
    source = forms.ChoiceField(choices=SuggestionFeedback.Source.choices)
    source_id = forms.IntegerField(min_value=1)
    action = forms.ChoiceField(choices=SuggestionFeedback.Action.choices)
