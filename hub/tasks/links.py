"""The link in a staff notification: `/s/<signed>`, naming one task and the member it was
sent to, signed with the hub's secret and expiring after `tasks.link_hours`.

It opens that task's one-screen page and nothing else: the task id comes from the signed
value, never from the path, so a link cannot be bent to another task. A member removed from
their team, a task no longer their team's, or a link past its age, opens nothing.
"""

from dataclasses import dataclass

from itsdangerous import BadSignature
from sqlalchemy.orm import Session

from hub.clock import Clock, utc_now
from hub.models import Task, TeamMember
from hub.signing import timed_serializer

PREFIX = "/s/"
SALT = "seed-staff-task"
MAX_TOKEN_CHARS = 200


@dataclass(frozen=True)
class StaffPass:
    """What a genuine link grants: acting on `task_id` as `member_name`."""

    task_id: int
    member_id: int
    member_name: str

    @property
    def actor(self) -> str:
        return f"{self.member_name} (by link)"


class StaffLinks:
    def __init__(self, secret: str, *, max_age_s: float, clock: Clock = utc_now) -> None:
        self._serializer = timed_serializer(secret, SALT, clock)
        self._max_age_s = max_age_s

    def token(self, *, task_id: int, member_id: int) -> str:
        return str(self._serializer.dumps([task_id, member_id]))

    def path(self, *, task_id: int, member_id: int) -> str:
        return PREFIX + self.token(task_id=task_id, member_id=member_id)

    def read(self, session: Session, token: str) -> StaffPass | None:
        """The pass, if the link is genuine, fresh, and its member still on the task's team."""
        if len(token) > MAX_TOKEN_CHARS:
            return None
        try:
            task_id, member_id = self._serializer.loads(token, max_age=int(self._max_age_s))
        except (BadSignature, ValueError, TypeError):
            return None
        if type(task_id) is not int or type(member_id) is not int:  # bool is an int too
            return None
        member = session.get(TeamMember, member_id)
        if member is None or member.removed_at is not None:
            return None
        task = session.get(Task, task_id)
        if task is None or task.team_id != member.team_id:
            return None
        return StaffPass(task_id, member_id, member.name)
