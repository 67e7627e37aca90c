"""Read models fed by the event log, for the portal, the clinic and the back office:
free portal slots, doctors' days, the clinic calendar, payments per appointment and
patient, and the follow-up queue; each one tenant's, filterable by branch, clinician
and city. ``ReadModelsProjection`` writes them; the query functions read them."""

from __future__ import annotations

from mymedic.app.read_models.calendar_view import calendar_view
from mymedic.app.read_models.follow_ups import follow_up_queue
from mymedic.app.read_models.payments import payments_summary
from mymedic.app.read_models.projection import ReadModelsProjection
from mymedic.app.read_models.schedule import doctor_schedule
from mymedic.app.read_models.scope import NotFound, branches_in_scope
from mymedic.app.read_models.slots import portal_slots

__all__ = [
    "NotFound",
    "ReadModelsProjection",
    "branches_in_scope",
    "calendar_view",
    "doctor_schedule",
    "follow_up_queue",
    "payments_summary",
    "portal_slots",
]
