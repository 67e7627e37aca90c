# The bucket of function sources and the bundle built by scripts/build_bundle.py
# (build/function-source.zip). The object name carries the zip's MD5, so a new bundle is
# a new object and every function is redeployed from it; an unchanged bundle changes
# nothing.

resource "google_storage_bucket" "sources" {
  #checkov:skip=CKV_GCP_62:access logging of a build-artifact bucket is covered by Cloud Audit Logs (data access)
  name     = "${var.project_id}-mymedic-sources"
  project  = var.project_id
  location = var.region
  labels   = local.labels

  uniform_bucket_level_access = true
  public_access_prevention    = "enforced"
  force_destroy               = false

  versioning {
    enabled = true
  }

  # Bundles are small and each has its own name; overwritten versions (none expected)
  # are dropped once three newer ones exist.
  lifecycle_rule {
    condition {
      num_newer_versions = 3
      with_state         = "ARCHIVED"
    }
    action {
      type = "Delete"
    }
  }

  depends_on = [google_project_service.api]
}

resource "google_storage_bucket_object" "bundle" {
  name   = "function-source/${filemd5(var.function_source_zip)}.zip"
  bucket = google_storage_bucket.sources.name
  source = var.function_source_zip
}
