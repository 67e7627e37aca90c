# The Google APIs the platform uses. disable_on_destroy = false: destroying this module
# must not switch off an API other things in the project may use.
locals {
  services = toset([
    "artifactregistry.googleapis.com", # function images (built by Cloud Build)
    "bigquery.googleapis.com",
    "cloudbuild.googleapis.com", # builds the function source into images
    "cloudfunctions.googleapis.com",
    "cloudresourcemanager.googleapis.com", # project IAM bindings
    "cloudscheduler.googleapis.com",
    "eventarc.googleapis.com", # required by Cloud Functions gen2
    "firestore.googleapis.com",
    "iam.googleapis.com",
    "logging.googleapis.com",
    "monitoring.googleapis.com",
    "pubsub.googleapis.com",
    "run.googleapis.com", # gen2 functions are Cloud Run services
    "secretmanager.googleapis.com",
    "storage.googleapis.com",
  ])
}

resource "google_project_service" "api" {
  for_each = local.services

  project            = var.project_id
  service            = each.value
  disable_on_destroy = false
}
