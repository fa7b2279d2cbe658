"""Routing's REST endpoints: thin wiring from DRF to routing's services and selectors."""

from django.utils import timezone
from drf_spectacular.utils import extend_schema
from rest_framework.generics import ListAPIView
from rest_framework.pagination import LimitOffsetPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from routing.selectors import agents_overview, team_queue_for_user
from routing.serializers import (
    AgentStatusSerializer,
    AssignInputSerializer,
    AssignOutcomeSerializer,
    HeartbeatInputSerializer,
    HeartbeatSerializer,
    QueuedConversationSerializer,
)
from routing.services import agent_heartbeat, conversation_assign, conversation_transfer


def _valid(serializer_class, request: Request) -> dict:
    serializer = serializer_class(data=request.data)
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ConversationAssignView(APIView):
    @extend_schema(
        summary="Assign or transfer a conversation",
        description="To an agent (`agent`, with `override` to exceed their capacity) or to a "
        "team (`team`: its strategy picks an agent now, or the conversation waits in its queue). "
        "Needs the `routing.assign_conversation` permission (or staff); an unknown agent or "
        "team, or a full agent without override, is a 400 with a `code` and a reason.",
        request=AssignInputSerializer,
        responses=AssignOutcomeSerializer,
    )
    def post(self, request: Request, conversation_id: int) -> Response:
        data = _valid(AssignInputSerializer, request)
        if "agent" in data:
            assignment = conversation_assign(
                conversation_id=conversation_id,
                agent_id=data["agent"],
                actor=request.user,
                override=data["override"],
            )
            team_id = assignment.team_id
        else:
            assignment = conversation_transfer(
                conversation_id=conversation_id, team_id=data["team"], actor=request.user
            )
            team_id = data["team"]
        outcome = {
            "conversation": conversation_id,
            "team": team_id,
            "agent": assignment.agent_id if assignment else None,
            "queued": assignment is None,
            "assignment": assignment,
        }
        return Response(AssignOutcomeSerializer(outcome).data)


class AgentListView(APIView):
    @extend_schema(
        summary="List agents",
        description="Every agent with presence (offline once heartbeats stop), open load and "
        "capacity, overall and for DMs and public conversations.",
        responses=AgentStatusSerializer(many=True),
    )
    def get(self, request: Request) -> Response:
        statuses = agents_overview(now=timezone.now())
        return Response(AgentStatusSerializer(statuses, many=True).data)


class AgentHeartbeatView(APIView):
    @extend_schema(
        summary="Report the caller's presence",
        description="The console calls this every 30 s or so; an agent with no heartbeat for "
        "ROUTING_PRESENCE_TIMEOUT (90 s) is offline. Coming online assigns queued conversations.",
        request=HeartbeatInputSerializer,
        responses=HeartbeatSerializer,
    )
    def post(self, request: Request) -> Response:
        data = _valid(HeartbeatInputSerializer, request)
        agent = agent_heartbeat(agent_id=request.user.pk, status=data["status"])
        return Response(HeartbeatSerializer(agent).data)


class TeamQueuePagination(LimitOffsetPagination):
    default_limit = 50
    max_limit = 200


@extend_schema(
    summary="A team's queue",
    description="Conversations waiting for an agent, next first: priority, then SLA deadline, "
    "then age. Visible to the team's members and to those who may assign.",
)
class TeamQueueView(ListAPIView):
    serializer_class = QueuedConversationSerializer
    pagination_class = TeamQueuePagination
    filter_backends: list = []

    def get_queryset(self):
        return team_queue_for_user(user=self.request.user, team_id=self.kwargs["team_id"])
