from django.contrib import admin, messages
from django.db import models

from helpdesk.errors import DomainError
from inbox.models import (
    Attachment,
    CannedReply,
    Conversation,
    Customer,
    CustomerIdentity,
    Message,
    Note,
    Tag,
)
from inbox.services import conversation_priority_set, conversation_status_set


@admin.register(Tag)
class TagAdmin(admin.ModelAdmin):
    list_display = ["name", "color"]
    search_fields = ["name"]


# Platform URLs are https; say so instead of relying on Django's changing default scheme.
URL_FIELDS = {models.URLField: {"assume_scheme": "https"}}


class CustomerIdentityInline(admin.TabularInline):
    model = CustomerIdentity
    extra = 0
    formfield_overrides = URL_FIELDS


@admin.register(Customer)
class CustomerAdmin(admin.ModelAdmin):
    list_display = ["display_name", "crm_contact_id", "language", "created_at"]
    search_fields = ["display_name", "identities__handle", "identities__external_id", "crm_contact_id"]
    filter_horizontal = ["tags"]
    inlines = [CustomerIdentityInline]


class MessageInline(admin.TabularInline):
    model = Message
    extra = 0
    fields = ["created_at", "direction", "sender_type", "content", "content_type", "delivery_status", "failure_reason"]
    readonly_fields = fields
    show_change_link = True
    can_delete = False

    def has_add_permission(self, request, obj=None) -> bool:
        return False  # replies go through the reply service, which sends them


class NoteInline(admin.StackedInline):
    model = Note
    extra = 0
    fields = ["body", "author", "created_at"]
    readonly_fields = ["author", "created_at"]


@admin.register(Conversation)
class ConversationAdmin(admin.ModelAdmin):
    list_display = ["id", "customer", "channel", "source", "status", "priority", "assignee", "last_message_at"]
    list_filter = ["status", "priority", "source", "channel__platform", "channel"]
    search_fields = ["customer__display_name", "customer__identities__handle", "messages__content"]
    raw_id_fields = ["customer", "previous"]
    formfield_overrides = URL_FIELDS
    filter_horizontal = ["tags"]
    readonly_fields = ["created_at", "updated_at", "last_message_at", "first_response_at", "resolved_at"]
    list_select_related = ["customer", "channel", "assignee"]
    inlines = [NoteInline, MessageInline]

    def save_model(self, request, obj, form, change):
        """Status and priority change through their services, so SLA clocks, routing queues
        and live consoles follow; the other fields save as usual."""
        changes = {name: getattr(obj, name) for name in ("status", "priority") if change and name in form.changed_data}
        for name in changes:
            setattr(obj, name, form.initial[name])
        super().save_model(request, obj, form, change)
        try:
            if "status" in changes:
                conversation_status_set(conversation_id=obj.pk, status=changes["status"])
            if "priority" in changes:
                conversation_priority_set(conversation_id=obj.pk, priority=changes["priority"])
        except DomainError as exc:
            self.message_user(request, exc.message, level=messages.ERROR)

    def save_formset(self, request, form, formset, change):
        notes = formset.save(commit=False)
        for note in notes:
            if isinstance(note, Note) and note.author_id is None:
                note.author = request.user
            note.save()
        formset.save_m2m()
        for obj in formset.deleted_objects:
            obj.delete()


class AttachmentInline(admin.TabularInline):
    model = Attachment
    extra = 0


@admin.register(Message)
class MessageAdmin(admin.ModelAdmin):
    list_display = ["id", "conversation", "direction", "sender_type", "content_type", "delivery_status", "created_at"]
    list_filter = ["direction", "sender_type", "delivery_status", "content_type", "channel__platform"]
    search_fields = ["content", "platform_message_id"]
    raw_id_fields = ["conversation", "author"]
    readonly_fields = ["channel", "platform_message_id", "platform_timestamp", "created_at", "edited_at", "deleted_at"]
    inlines = [AttachmentInline]


@admin.register(CannedReply)
class CannedReplyAdmin(admin.ModelAdmin):
    list_display = ["title", "body"]
    search_fields = ["title", "body"]
