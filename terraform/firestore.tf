# The Firestore database (Native mode) of the event store and the read models, and the
# indexes their queries need. Layout (shared/mymedic/adapters/gcp/):
#   event_log/{position}, outbox/{position}, dead_letters/{position}, sequence/global
#   tenants/{tenant}/streams, event_ids, projection_checkpoints, <read-model collections>
# A composite index's collection is the last path segment, so "calendar" below is
# tenants/{tenant}/calendar.

resource "google_firestore_database" "main" {
  project     = var.project_id
  name        = var.firestore_database
  location_id = var.firestore_location
  type        = "FIRESTORE_NATIVE"

  # Seven days of point-in-time reads and recovery; the database cannot be deleted
  # (by the API or by Terraform: ABANDON leaves it in place on destroy).
  point_in_time_recovery_enablement = "POINT_IN_TIME_RECOVERY_ENABLED"
  delete_protection_state           = "DELETE_PROTECTION_ENABLED"
  deletion_policy                   = "ABANDON"
  app_engine_integration_mode       = "DISABLED"

  depends_on = [google_project_service.api]
}

locals {
  # name -> collection and fields (all ascending). Required: event_log_stream (equality
  # and a range on stream_version, ordered by it: a stream's events). The others are
  # equality-only queries, which Firestore could serve by merging single-field indexes;
  # they are declared for the hot read-model queries so those never depend on a merge.
  firestore_indexes = {
    # FirestoreEventStore.read(): tenant_id ==, stream_id ==, stream_version > (<=), order by stream_version.
    event_log_stream = { collection = "event_log", fields = ["tenant_id", "stream_id", "stream_version"] }
    # The clinic calendar of a branch's day (app/calendar.py).
    calendar_branch_day = { collection = "calendar", fields = ["branch_id", "date"] }
    # Free slots: every held interval of a branch's day (read_models/slots.py).
    schedule_branch_day = { collection = "schedule_entries", fields = ["branch_id", "date"] }
    # A clinician's or room's day (read_models/schedule.py entries_of).
    schedule_resource_day = { collection = "schedule_entries", fields = ["resource_kind", "resource_id", "date"] }
    # Payments of a patient or a clinician within a branch (read_models/payments.py).
    payments_patient_branch   = { collection = "payments", fields = ["patient_id", "branch_id"] }
    payments_clinician_branch = { collection = "payments", fields = ["clinician_id", "branch_id"] }
    # Open follow-ups of a branch (read_models/follow_ups.py: scheduled and status always set).
    follow_ups_branch_status = { collection = "follow_ups", fields = ["branch_id", "scheduled", "status"] }
    # Reconciliation of a day, per branch (app/reconcile.py).
    reconciliation_day_branch = { collection = "reconciliation", fields = ["day", "branch_id"] }
  }
}

resource "google_firestore_index" "composite" {
  for_each = local.firestore_indexes

  project     = var.project_id
  database    = google_firestore_database.main.name
  collection  = each.value.collection
  query_scope = "COLLECTION"

  dynamic "fields" {
    for_each = each.value.fields
    content {
      field_path = fields.value
      order      = "ASCENDING"
    }
  }
}

# reset_projection() finds a projection's checkpoints in every tenant with a collection
# group query (projection_checkpoints where projection == <name>): a single-field index
# of collection-group scope. Declaring index_config replaces the automatic indexes of
# the field, so the collection-scope ones are declared too. (Its unfiltered collection
# group scans of the read-model collections use the built-in document-name index.)
resource "google_firestore_field" "checkpoint_projection" {
  project    = var.project_id
  database   = google_firestore_database.main.name
  collection = "projection_checkpoints"
  field      = "projection"

  index_config {
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "DESCENDING"
      query_scope = "COLLECTION"
    }
    indexes {
      order       = "ASCENDING"
      query_scope = "COLLECTION_GROUP"
    }
  }
}
