# One Secret Manager secret per SecretStr setting (local.secret_fields): the secret
# mymedic-<field, - for _>, mounted as MYMEDIC_<FIELD> in the functions that read it
# (local.function_secrets), whose service accounts alone may access it. Terraform
# creates the secrets, never their values: add a version by hand, e.g.
#   printf %s "$VALUE" | gcloud secrets versions add mymedic-stripe-webhook-secret --data-file=-
# A function only starts once every secret it mounts has a version.

resource "google_secret_manager_secret" "secret" {
  for_each = local.secret_fields

  project   = var.project_id
  secret_id = "mymedic-${replace(each.key, "_", "-")}"
  labels    = merge(local.labels, { setting = replace(each.key, "_", "-") })

  # Replicas in the deployment's region only (data residency).
  replication {
    user_managed {
      replicas {
        location = var.region
      }
    }
  }

  depends_on = [google_project_service.api]
}

locals {
  # "function/field" -> the pair, for every secret a function reads.
  secret_grants = merge([
    for function, fields in local.function_secrets : {
      for field in fields : "${function}/${field}" => { function = function, field = field }
    }
  ]...)
}

resource "google_secret_manager_secret_iam_member" "function_secret" {
  for_each = local.secret_grants

  project   = var.project_id
  secret_id = google_secret_manager_secret.secret[each.value.field].secret_id
  role      = "roles/secretmanager.secretAccessor"
  member    = "serviceAccount:${google_service_account.function[each.value.function].email}"
}

# Tenants' own secrets (a Zoho org's refresh token, its webhook tokens): created by
# `mymedic zoho connect` at onboarding as secrets named mymedic-t-<tenant>-<name>, one
# version per value. The functions that reach Zoho may read those, and only those: the
# grant is project-wide, conditioned on the secret's name.
resource "google_project_iam_member" "tenant_secret_accessor" {
  for_each = toset(["jobs", "zoho_webhook"])

  project = var.project_id
  role    = "roles/secretmanager.secretAccessor"
  member  = "serviceAccount:${google_service_account.function[each.key].email}"

  condition {
    title       = "mymedic-tenant-secrets"
    description = "Only the tenants' own secrets (mymedic-t-*)."
    expression  = "resource.name.startsWith(\"projects/${data.google_project.this.number}/secrets/mymedic-t-\")"
  }
}
