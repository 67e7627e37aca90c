# The warehouse dataset. Its tables (bigquery_tables.tf) and views (bigquery_views.tf)
# are generated from bigquery/ by scripts/terraform_bigquery.py; run it after changing
# the SQL (tests/unit/test_terraform_bigquery_sync.py fails until you do).
#
# Access is the dataset's IAM only (iam.tf: the warehouse writers); no public or
# allAuthenticatedUsers member is ever granted. Analysts and Looker get
# roles/bigquery.dataViewer on this dataset, added outside this module.

resource "google_bigquery_dataset" "warehouse" {
  #checkov:skip=CKV_GCP_81:Google-managed encryption at rest; the warehouse is pseudonymous (no names, contacts or birth dates). Set default_encryption_configuration to use CMEK.
  project       = var.project_id
  dataset_id    = var.bigquery_dataset
  friendly_name = "MyMedic warehouse"
  description   = "Facts, dimensions, marts and reports projected from the MyMedic event store."
  location      = var.bigquery_location
  labels        = local.labels

  # Facts are kept for good: no default table or partition expiration.
  delete_contents_on_destroy = false

  depends_on = [google_project_service.api]
}
