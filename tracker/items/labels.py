"""Translated names of the fixed values, for pages, exports and messages."""

from flask_babel import lazy_gettext as _l

from tracker.milestones.labels import MILESTONE_KIND

KIND = {"problem": _l("Problem"), "task": _l("Task")}
STATUS = {
    "open": _l("Not started"),
    "in_progress": _l("In progress"),
    "submitted": _l("Awaiting verification"),
    "closed": _l("Closed"),
    "cancelled": _l("Cancelled"),
}
SEVERITY = {"high": _l("High"), "medium": _l("Medium"), "low": _l("Low")}
KEY_AREA = {
    "competition": _l("Competition organisation"),
    "accessibility": _l("Accessibility works"),
    "reception": _l("Reception"),
    "safety": _l("Safety inspection"),
    "transition": _l("Committee transition"),
    "venue": _l("Venue facilities"),
    "ceremony": _l("Ceremonies"),
    "volunteer": _l("Volunteer services"),
    "medical": _l("Medical services"),
    "antidoping": _l("Anti-doping"),
    "logistics": _l("Logistics"),
    "publicity": _l("Media and publicity"),
    "discipline": _l("Discipline supervision"),
    "third_party": _l("Third-party services"),
}
SOURCE = {
    "meeting_decision": _l("Meeting decision"),
    "leader_inspection": _l("Leader inspection"),
    "superior_guidance": _l("Provincial guidance"),
    "self_check": _l("Self-inspection"),
    "safety_inspection": _l("Safety hazard inspection"),
    "accessibility_audit": _l("Accessibility audit"),
    "exercise_debrief": _l("Rehearsal or test-event debrief"),
    "discipline_finding": _l("Discipline supervision finding"),
    "public_feedback": _l("Public feedback"),
}
ACTION = {
    "start": _l("Start rectification"),
    "submit": _l("Submit for verification"),
    "verify": _l("Verify and close (销号)"),
    "reject": _l("Reject"),
    "reopen": _l("Reopen"),
    "cancel": _l("Cancel item"),
}
LIGHT = {"red": _l("Red"), "amber": _l("Amber"), "green": _l("Green")}
LEDGER_KIND = {
    "created": _l("Created"),
    "field_changed": _l("Changed"),
    "status": _l("Status"),
    "progress": _l("Progress"),
    "evidence": _l("Evidence"),
    "comment": _l("Note"),
    "deadline_changed": _l("Deadline changed"),
    "notice": _l("Supervision notice"),
    "extension_requested": _l("Extension requested"),
    "extension_approved": _l("Extension approved"),
    "extension_refused": _l("Extension refused"),
}
EXTENSION_STATUS = {
    "pending": _l("Waiting for a decision"),
    "approved": _l("Approved"),
    "refused": _l("Refused"),
}
FIELD = {
    "code": _l("No."),
    "kind": _l("Kind"),
    "title": _l("Title"),
    "description": _l("Description"),
    "source": _l("Source"),
    "key_area": _l("Key area"),
    "severity": _l("Severity"),
    "group_id": _l("Responsible group"),
    "supporting_groups": _l("Supporting groups"),
    "owner_id": _l("Responsible person"),
    "measures": _l("Measures"),
    "deadline": _l("Deadline"),
    "acceptance_criteria": _l("Acceptance criteria"),
    "found_on": _l("Found on"),
    "venue": _l("Venue"),
    "remarks": _l("Remarks"),
    "milestone_id": _l("Milestone"),
    "is_confidential": _l("Confidential"),
    "status": _l("Status"),
    "progress": _l("Progress"),
}


def source_label(value: str) -> str:
    return str(SOURCE[value]) if value in SOURCE else value


def register(app) -> None:
    app.jinja_env.globals.update(
        KIND=KIND,
        STATUS=STATUS,
        SEVERITY=SEVERITY,
        KEY_AREA=KEY_AREA,
        ACTION=ACTION,
        LIGHT=LIGHT,
        MILESTONE_KIND=MILESTONE_KIND,
        LEDGER_KIND=LEDGER_KIND,
        EXTENSION_STATUS=EXTENSION_STATUS,
        FIELD=FIELD,
        source_label=source_label,
    )
