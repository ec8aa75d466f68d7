"""Replay the data set's history through the real services, oldest change first.

Every status change, progress report, piece of evidence, verification record
and supervision notice becomes a ledger entry at its historical time, so the
ledger is one hash chain in chronological id order and each item ends in the
status and progress the data set describes.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, time

from tracker import permissions
from tracker.demo.dataset import STATUSES, Placement, by_id, moments
from tracker.items import duties, ledger, rules, services
from tracker.items.models import Item
from tracker.notices import services as notices
from tracker.notices.models import LEVELS

# Order of one item's changes within a day: an item is created before it is
# worked on, reported on before it is submitted, and verified after that.
CREATE, DISPATCH, START, NOTICE, PROGRESS, EVIDENCE, LATEST, SUBMIT, CHECK, DECIDE = range(10)
ACTION_RANK = {"start": START, "submit": SUBMIT}


@dataclass(order=True)
class Change:
    day: str
    seq: int
    rank: int
    order: int
    apply: Callable = field(compare=False)


@dataclass
class Replay:
    """The demo's history as changes in time order; ``run`` applies them."""

    data: dict
    place: Placement
    people: dict  # data person id -> User
    create: Callable  # (data item, actor, now) -> Item
    changes: list[Change] = field(default_factory=list)
    items: dict = field(default_factory=dict)  # data item id -> Item
    leads: dict = field(default_factory=dict)  # group id -> its lead (User)
    stand_ins: int = 0  # changes recorded on behalf of someone our role table does not allow

    def add(self, day: str, item: dict, rank: int, apply: Callable) -> None:
        self.changes.append(Change(day, item["seq"], rank, len(self.changes), apply))

    def run(self, now: datetime) -> dict:
        by_day = defaultdict(list)
        for change in sorted(self.changes):
            by_day[change.day].append(change)
        for day, changes in by_day.items():
            start = self.place.at(self.place.day(day), time.min)
            for change, moment in zip(changes, moments(start, len(changes), now), strict=True):
                change.apply(moment)
        return self.items

    # -- building the timeline -------------------------------------------------

    def build(self) -> "Replay":
        items = by_id(self.data["items"])
        for row in self.data["statusHistory"]:
            self._status_change(items[row["itemId"]], row)
        for row in self.data["progressUpdates"]:
            self._progress(items[row["itemId"]], row)
        for row in self.data["evidence"]:
            self._evidence(items[row["itemId"]], row)
        for row in self.data["verifications"]:
            self._verification(items[row["itemId"]], row)
        for row in self.data["supervisionActions"]:
            self._notice(items[row["itemId"]], row)
        for item in self.data["items"]:
            self._latest(item)
        return self

    def _status_change(self, item: dict, row: dict) -> None:
        actor = self.people[row["byPersonId"]]
        if row["fromStatus"] is None:
            self.add(row["date"], item, CREATE, lambda now: self._create(item, actor, now))
            return
        before, after = STATUSES[row["fromStatus"]], STATUSES[row["toStatus"]]
        note = row["noteZh"] or self._label("itemStatus", row["toStatus"])
        if before == after:  # dispatch, acceptance, long-term: steps our workflow does not model
            rank = DISPATCH if after == "open" else DECIDE
            self.add(row["date"], item, rank, lambda now: self._note(item, actor, now, note))
            return
        action = next(a for (frm, a), to in rules.TRANSITIONS.items() if frm == before and to == after)
        rank = ACTION_RANK.get(action, DECIDE)
        self.add(row["date"], item, rank, lambda now: self._transition(item, action, actor, now, note))

    def _progress(self, item: dict, row: dict) -> None:
        actor = self.people[row["reporterPersonId"]]
        parts = [row["textZh"]]
        if row.get("nextStepZh"):
            parts.append(f"下一步:{row['nextStepZh']}")
        if row.get("needsCoordinationZh"):
            parts.append(f"需协调:{row['needsCoordinationZh']}")
        note = "\n".join(parts)
        self.add(
            row["date"],
            item,
            PROGRESS,
            lambda now: self._report(item, actor, now, note, row["progressPercent"]),
        )

    def _latest(self, item: dict) -> None:
        """The item's latest progress (最新进展) where no progress report carries it already."""
        text, day = item["latestProgressZh"], item["lastUpdateDate"]
        if not text or not day or item["status"] == "cancelled":  # the cancel note says it all
            return
        reports = [r for r in self.data["progressUpdates"] if r["itemId"] == item["id"]]
        if reports and reports[-1]["textZh"] == text:
            return
        actor = self.people[item["responsiblePersonId"]]
        self.add(day, item, LATEST, lambda now: self._report(item, actor, now, text, item["progressPercent"]))

    def _evidence(self, item: dict, row: dict) -> None:
        actor = self.people[row["uploadedByPersonId"]]
        kind = self._label("evidenceType", row["type"])
        note = f"佐证材料({kind}):{row['titleZh']},文件 {row['fileName']}"
        self.add(row["date"], item, EVIDENCE, lambda now: self._note(item, actor, now, note))

    def _verification(self, item: dict, row: dict) -> None:
        verifiers = [self.people[p] for p in row["verifierPersonIds"]]
        step = self._label("verificationStep", row["step"])
        method = self._label("verificationMethod", row["method"])
        result = "通过" if row["result"] == "pass" else "不通过"
        names = "、".join(v.display_name for v in verifiers)
        note = f"验收记录({step}·{method}):{result}。{row['opinionZh']}核查人:{names}"
        self.add(row["date"], item, CHECK, lambda now: self._note(item, verifiers[0], now, note))

    def _notice(self, item: dict, row: dict) -> None:
        """A real supervision notice (督办单); a later, higher one escalates the open one."""
        actor = self.people[row["issuedByPersonId"]]
        due = self.place.day(row["responseDueDate"])
        text = f"{row['kindZh']}:{row['contentZh']}"
        self.add(row["date"], item, NOTICE, lambda now: self._issue_notice(item, actor, now, row["level"], text, due))
        if row["responded"]:
            self.add(row["responseDueDate"], item, PROGRESS, lambda now: self._answer_notice(item, now))

    def _label(self, enum: str, key: str) -> str:
        return next((e["zh"] for e in self.data["enums"][enum] if e["key"] == key), key)

    # -- applying one change -----------------------------------------------------

    def _create(self, item: dict, actor, now: datetime) -> None:
        self.items[item["id"]] = self.create(item, actor, now)

    def _transition(self, item: dict, action: str, actor, now: datetime, note: str) -> None:
        target = self.items[item["id"]]
        if not permissions.can_transition(actor, target, action, progress_recorders=self._recorders(target, action)):
            actor, note = self._stand_in(target, actor, action), f"{note}(代{actor.display_name})"
        services.transition(target, action, actor=actor, now=now, note=note)

    def _report(self, item: dict, actor, now: datetime, note: str, progress: int) -> None:
        target: Item = self.items[item["id"]]
        if not permissions.can_contribute(actor, target):
            actor, note = self._stand_in(target, actor, "report"), f"{note}(代{actor.display_name})"
        services.add_progress(target, actor=actor, now=now, note=note, progress=progress)

    def _recorders(self, target: Item, action: str) -> frozenset[int]:
        return duties.progress_recorders(target.id) if action == "verify" else frozenset()

    def _stand_in(self, target: Item, actor, action: str):
        """Who records a change our role table does not let the data set's person make.

        The data set's richer roles let a committee member start work they own
        or close an item they submitted; here the group's lead (or the admin)
        and another committee member act on their behalf, and the note says so.
        """
        candidates = [self.leads.get(target.group_id), *self.people.values()]
        recorders = self._recorders(target, action)
        for user in candidates:
            if user is None or user is actor:
                continue
            allowed = (
                permissions.can_contribute(user, target)
                if action == "report"
                else permissions.can_transition(user, target, action, progress_recorders=recorders)
            )
            if allowed and (action not in permissions.COMMITTEE_ACTIONS or user.role == "committee"):
                self.stand_ins += 1
                return user
        raise LookupError(f"nobody may {action} {target.code}")

    def _issue_notice(self, item: dict, actor, now: datetime, level: str, text: str, due) -> None:
        target: Item = self.items[item["id"]]
        if not permissions.can_issue_notices(actor):
            actor = next(u for u in self.people.values() if u.role == permissions.COMMITTEE)
        current = notices.open_notice(target)
        if current is None:
            notices.issue([target], level=level, text=text, reply_by=due, actor=actor, now=now)
            return
        while LEVELS.index(current.level) < LEVELS.index(level):
            current = notices.escalate(current, text=text, reply_by=due, actor=actor, now=now)

    def _answer_notice(self, item: dict, now: datetime) -> None:
        """The group's lead signs for the open notice and replies, as the data set says they did."""
        target: Item = self.items[item["id"]]
        current = notices.open_notice(target)
        lead = self.leads.get(target.group_id) or target.owner
        if current is None or lead is None or not permissions.can_answer_notice(lead, current):
            return
        if current.status == "issued":
            notices.acknowledge(current, actor=lead, now=now)
        if current.status == "acknowledged":
            notices.reply(current, text="已按督办要求落实并书面回复。", actor=lead, now=now)

    def _note(self, item: dict, actor, now: datetime, note: str) -> None:
        target: Item = self.items[item["id"]]
        ledger.append(target, "comment", actor=actor, now=now, note=note)
