# Service accounts and their roles. Every function runs as its own service account with
# only what its code needs (secret access is in secrets.tf, invoker bindings next to the
# callers in pubsub.tf and scheduler.tf, public webhooks in functions.tf).

locals {
  # Append events (Firestore event store, outbox) or write read models.
  firestore_writers = toset([
    "commands", "jobs", "zoho_webhook", "stripe_webhook", "razorpay_webhook",
    "project_calendar", "project_read_models",
  ])
  # Only read Firestore: the read models (read), the event log (audit; project_warehouse
  # follows it and writes to BigQuery).
  firestore_readers = toset(["read", "audit", "project_warehouse"])
  # Publish what they append (after-commit dispatch, the outbox relay).
  event_publishers = toset(["commands", "jobs", "zoho_webhook", "stripe_webhook", "razorpay_webhook"])
  # Run BigQuery jobs (MERGE transactions, staging tables) on the warehouse dataset:
  # the warehouse projection and the projection-catch-up job.
  warehouse_writers = toset(["jobs", "project_warehouse"])
}

resource "google_service_account" "function" {
  for_each = local.function_names

  project      = var.project_id
  account_id   = "mymedic-${replace(each.key, "_", "-")}"
  display_name = "MyMedic function ${each.key}"
  description  = "Runtime identity of the ${each.key} Cloud Function."

  depends_on = [google_project_service.api]
}

# Firestore has no per-collection IAM: the roles are project-wide, conditioned on the
# database the platform uses.
resource "google_project_iam_member" "firestore_user" {
  for_each = local.firestore_writers

  project = var.project_id
  role    = "roles/datastore.user"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"

  condition {
    title      = "mymedic-firestore-database"
    expression = "resource.name == \"projects/${var.project_id}/databases/${var.firestore_database}\""
  }
}

resource "google_project_iam_member" "firestore_viewer" {
  for_each = local.firestore_readers

  project = var.project_id
  role    = "roles/datastore.viewer"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"

  condition {
    title      = "mymedic-firestore-database"
    expression = "resource.name == \"projects/${var.project_id}/databases/${var.firestore_database}\""
  }
}

resource "google_pubsub_topic_iam_member" "event_publisher" {
  for_each = local.event_publishers

  project = var.project_id
  topic   = google_pubsub_topic.events.name
  role    = "roles/pubsub.publisher"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"
}

resource "google_bigquery_dataset_iam_member" "warehouse_editor" {
  for_each = local.warehouse_writers

  project    = var.project_id
  dataset_id = google_bigquery_dataset.warehouse.dataset_id
  role       = "roles/bigquery.dataEditor"
  member     = "serviceAccount:${google_service_account.function[each.key].email}"
}

# Query jobs run in the project (the data they touch is the dataset's, above).
resource "google_project_iam_member" "bigquery_job_user" {
  for_each = local.warehouse_writers

  project = var.project_id
  role    = "roles/bigquery.jobUser"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"
}

# --- building the functions ----------------------------------------------------------
# Cloud Build runs as this account, not the project's default compute account.
resource "google_service_account" "build" {
  project      = var.project_id
  account_id   = "mymedic-function-build"
  display_name = "MyMedic function builds"
  description  = "Cloud Build identity that turns the function bundle into images."

  depends_on = [google_project_service.api]
}

resource "google_project_iam_member" "build" {
  for_each = toset([
    "roles/logging.logWriter",
    "roles/artifactregistry.writer",
  ])

  project = var.project_id
  role    = each.value
  member  = "serviceAccount:${google_service_account.build.email}"
}

resource "google_storage_bucket_iam_member" "build_reads_sources" {
  bucket = google_storage_bucket.sources.name
  role   = "roles/storage.objectViewer"
  member = "serviceAccount:${google_service_account.build.email}"
}

# --- callers -----------------------------------------------------------------------------
# Pub/Sub pushes to the projection functions as this account (OIDC token).
resource "google_service_account" "pusher" {
  project      = var.project_id
  account_id   = "mymedic-pubsub-pusher"
  display_name = "MyMedic Pub/Sub push"
  description  = "Identity of the projection push subscriptions; may invoke the projection functions only."

  depends_on = [google_project_service.api]
}

# Cloud Scheduler calls the jobs function as this account (OIDC token).
resource "google_service_account" "scheduler" {
  project      = var.project_id
  account_id   = "mymedic-scheduler"
  display_name = "MyMedic Cloud Scheduler"
  description  = "Identity of the Cloud Scheduler jobs; may invoke the jobs function only."

  depends_on = [google_project_service.api]
}

locals {
  pubsub_service_agent = "serviceAccount:service-${data.google_project.this.number}@gcp-sa-pubsub.iam.gserviceaccount.com"
}

# Pub/Sub mints the push OIDC tokens of the pusher account (needed in projects created
# before April 2021; harmless later).
resource "google_service_account_iam_member" "pubsub_mints_pusher_tokens" {
  service_account_id = google_service_account.pusher.name
  role               = "roles/iam.serviceAccountTokenCreator"
  member             = local.pubsub_service_agent
}
