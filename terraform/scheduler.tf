# One Cloud Scheduler job per job of the jobs function (JOBS in
# shared/mymedic/entrypoints.py), POSTing /jobs/<name> with an OIDC token of the
# scheduler account, the only account that may invoke the jobs function.

locals {
  # name -> schedule: THE list of scheduled jobs (compare with entrypoints.JOBS).
  scheduler_jobs = {
    # Safety net of after-commit dispatch: publishes what a command's own publish missed.
    "outbox-relay" = var.job_schedules["outbox-relay"]
    # Brings the warehouse up to the end of the store (and past dead-lettered triggers).
    "projection-catch-up" = var.job_schedules["projection-catch-up"]
    # Fetches the lines of gateway settlements their webhooks did not list (daily).
    "settlement-detail" = var.job_schedules["settlement-detail"]
    # Zoho CRM changes since the last run (hourly; webhooks bring most of them sooner).
    "zoho-delta-sync" = var.job_schedules["zoho-delta-sync"]
    # A module's full history: a one-off at onboarding, so the job is created PAUSED
    # (var.paused_jobs) and run by hand (`gcloud scheduler jobs run ...`); it resumes
    # where it stopped. Weekly if unpaused, as a self-check that nothing was missed.
    "zoho-backfill" = var.job_schedules["zoho-backfill"]
    # Keeps the Zoho Notifications API channel alive (it lapses after a week).
    "zoho-renew-channels" = var.job_schedules["zoho-renew-channels"]
    # Zoho Books invoices and payments into our invoices (hourly).
    "zoho-books-sync" = var.job_schedules["zoho-books-sync"]
    # Mapped formula fields read again (daily): Zoho moves no Modified_Time when a
    # formula's value changes, so the delta sync would never see it.
    "zoho-formula-refresh" = var.job_schedules["zoho-formula-refresh"]
    # Google Ads cost and clicks of the last days (daily, after Google's own day closes).
    "google-ads-sync" = var.job_schedules["google-ads-sync"]
    # Alert rules of every tenant over yesterday (daily, after the warehouse caught up).
    "alerts" = var.job_schedules["alerts"]
    # The snapshot e-mails due today: daily ones every day, weekly on Mondays, monthly
    # on the 1st; a second run of a window sends nothing.
    "snapshots" = var.job_schedules["snapshots"]
    # Recomputes the materialized reports (mat_rpt_*) of every tenant whose facts
    # changed, and each once a day for the as-of-today rows: what Looker Studio reads.
    "refresh-reports" = var.job_schedules["refresh-reports"]
  }

  # How long Cloud Scheduler waits for a run (at most 30 min, and within the jobs
  # function's timeout) and how often it retries a failed one. Frequent jobs do not
  # retry: the next run does the same work.
  job_delivery = {
    "outbox-relay"         = { attempt_deadline = "180s", retry_count = 0 }
    "projection-catch-up"  = { attempt_deadline = "600s", retry_count = 0 }
    "settlement-detail"    = { attempt_deadline = "600s", retry_count = 3 }
    "zoho-delta-sync"      = { attempt_deadline = "900s", retry_count = 1 }
    "zoho-backfill"        = { attempt_deadline = "1800s", retry_count = 1 }
    "zoho-renew-channels"  = { attempt_deadline = "300s", retry_count = 3 }
    "zoho-books-sync"      = { attempt_deadline = "900s", retry_count = 1 }
    "zoho-formula-refresh" = { attempt_deadline = "1800s", retry_count = 1 }
    "google-ads-sync"      = { attempt_deadline = "900s", retry_count = 3 }
    "alerts"               = { attempt_deadline = "900s", retry_count = 3 }
    "snapshots"            = { attempt_deadline = "1800s", retry_count = 3 }
    "refresh-reports"      = { attempt_deadline = "900s", retry_count = 0 }
  }
}

resource "google_cloud_scheduler_job" "job" {
  for_each = local.scheduler_jobs

  name        = "mymedic-${each.key}"
  project     = var.project_id
  region      = var.region
  description = "POST /jobs/${each.key} on the jobs function."
  schedule    = each.value
  time_zone   = var.time_zone
  paused      = contains(var.paused_jobs, each.key)

  attempt_deadline = local.job_delivery[each.key].attempt_deadline

  retry_config {
    retry_count          = local.job_delivery[each.key].retry_count
    min_backoff_duration = "30s"
    max_backoff_duration = "600s"
    max_doublings        = 3
  }

  http_target {
    http_method = "POST"
    uri         = "${google_cloudfunctions2_function.jobs.service_config[0].uri}/jobs/${each.key}"

    oidc_token {
      service_account_email = google_service_account.scheduler.email
      audience              = google_cloudfunctions2_function.jobs.service_config[0].uri
    }
  }

  depends_on = [google_cloud_run_service_iam_member.scheduler_invokes_jobs]
}

# gen2 functions are Cloud Run services: the invoker role is on the service.
resource "google_cloud_run_service_iam_member" "scheduler_invokes_jobs" {
  project  = var.project_id
  location = var.region
  service  = google_cloudfunctions2_function.jobs.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.scheduler.email}"
}
