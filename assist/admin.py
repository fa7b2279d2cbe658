from django.contrib import admin

from assist.models import ChannelAssist, KnowledgeArticle, SuggestionFeedback


@admin.register(KnowledgeArticle)
class KnowledgeArticleAdmin(admin.ModelAdmin):
    list_display = ["title", "language", "tags", "is_active", "updated_at"]
    list_filter = ["language", "is_active"]
    search_fields = ["title", "body", "tags"]


@admin.register(ChannelAssist)
class ChannelAssistAdmin(admin.ModelAdmin):
    list_display = ["channel", "ai_assist_enabled"]
    list_editable = ["ai_assist_enabled"]


@admin.register(SuggestionFeedback)
class SuggestionFeedbackAdmin(admin.ModelAdmin):
    list_display = ["created_at", "conversation", "agent", "source", "source_id", "action"]
    list_filter = ["action", "source"]
    date_hierarchy = "created_at"

    def has_add_permission(self, request) -> bool:
        return False

    def has_change_permission(self, request, obj=None) -> bool:
        return False
