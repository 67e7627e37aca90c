# The ten Cloud Functions (gen2) of functions/main.py, one resource each, named like its
# Python entry point. All run python311 from the bundle object (storage.tf), as their own
# service account (iam.tf), with the MYMEDIC_* settings (main.tf) and exactly the secrets
# local.function_secrets gives them (mounted as MYMEDIC_<FIELD>, version latest).
#
# The projection functions are @functions_framework.cloud_event functions deployed
# without an Eventarc trigger: their Pub/Sub push subscriptions (pubsub.tf) post the raw
# push body, which functions-framework turns into a CloudEvent (the decorator fixes the
# signature type; tests/functions/test_pubsub_push.py). Explicit subscriptions keep the
# ordering, retry and dead-letter settings ours.
#
# available_cpu = "1": Cloud Run allows more than one concurrent request per instance
# only with at least one vCPU.

resource "google_cloudfunctions2_function" "commands" {
  #checkov:skip=CKV_GCP_124:an authenticated API called from outside Google Cloud: not public (no allUsers invoker, IAM invoker plus a JWT checked in code)
  name        = "mymedic-commands"
  project     = var.project_id
  location    = var.region
  description = "Booking commands: POST /commands/<name>, GET /openapi.json (JWT-authenticated)."
  labels      = local.labels

  build_config {
    runtime         = "python311"
    entry_point     = "commands"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    # Each request is a Firestore transaction plus a publish, I/O-bound: 20 concurrent
    # requests share one vCPU well; 20 instances (400 in flight) is far above a clinic chain's
    # peak and caps Firestore contention on the global sequence document. 60 s: a command
    # takes well under a second, retries of contended transactions included.
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 60
    min_instance_count               = 0
    max_instance_count               = 20
    max_instance_request_concurrency = 20
    # Ingress ALLOW_ALL but NOT public: no allUsers binding. Callers (the portal backend, an
    # API Gateway) hold run.invoker (var.api_invokers) and send their Google ID token in
    # X-Serverless-Authorization, the user's MyMedic JWT in Authorization (checked in code).
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function["commands"].email
    environment_variables          = local.function_env

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets["commands"]
      content {
        key        = "MYMEDIC_${upper(secret_environment_variables.value)}"
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # A revision only starts once its account may read its secrets and the build account
  # may read the source.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function_secret,
    google_storage_bucket_iam_member.build_reads_sources,
    google_project_iam_member.build,
  ]
}

resource "google_cloudfunctions2_function" "read" {
  #checkov:skip=CKV_GCP_124:an authenticated API called from outside Google Cloud: not public (no allUsers invoker, IAM invoker plus a JWT checked in code)
  name        = "mymedic-read"
  project     = var.project_id
  location    = var.region
  description = "Read models: GET /<model>?tenant_id=... (calendar, doctor_schedule, portal_slots, payments, follow_ups)."
  labels      = local.labels

  build_config {
    runtime         = "python311"
    entry_point     = "read"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    # Short Firestore queries only: high concurrency (40) per instance, 30 s timeout,
    # 20 instances for the portals' and front desks' polling at peak.
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 30
    min_instance_count               = 0
    max_instance_count               = 20
    max_instance_request_concurrency = 40
    # Ingress ALLOW_ALL, not public: as commands (var.api_invokers, JWT in code).
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function["read"].email
    environment_variables          = local.function_env

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets["read"]
      content {
        key        = "MYMEDIC_${upper(secret_environment_variables.value)}"
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # A revision only starts once its account may read its secrets and the build account
  # may read the source.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function_secret,
    google_storage_bucket_iam_member.build_reads_sources,
    google_project_iam_member.build,
  ]
}

resource "google_cloudfunctions2_function" "audit" {
  #checkov:skip=CKV_GCP_124:an authenticated API called from outside Google Cloud: not public (no allUsers invoker, IAM invoker plus a JWT checked in code)
  name        = "mymedic-audit"
  project     = var.project_id
  location    = var.region
  description = "An appointment's audit trail: GET /audit/appointments/<id>?tenant_id=... (JWT-authenticated)."
  labels      = local.labels

  build_config {
    runtime         = "python311"
    entry_point     = "audit"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    # Rare, admin-only reads of one stream: few instances (5), 30 s.
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 30
    min_instance_count               = 0
    max_instance_count               = 5
    max_instance_request_concurrency = 20
    # Ingress ALLOW_ALL, not public: as commands (var.api_invokers, JWT in code).
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function["audit"].email
    environment_variables          = local.function_env

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets["audit"]
      content {
        key        = "MYMEDIC_${upper(secret_environment_variables.value)}"
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # A revision only starts once its account may read its secrets and the build account
  # may read the source.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function_secret,
    google_storage_bucket_iam_member.build_reads_sources,
    google_project_iam_member.build,
  ]
}

resource "google_cloudfunctions2_function" "zoho_webhook" {
  #checkov:skip=CKV_GCP_124:Zoho calls this webhook from the internet; every request is checked against the channel token or workflow secret
  name        = "mymedic-zoho-webhook"
  project     = var.project_id
  location    = var.region
  description = "Zoho CRM Notifications API callbacks and workflow-rule webhooks."
  labels      = local.labels

  build_config {
    runtime         = "python311"
    entry_point     = "zoho_webhook"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    # A notification carries record ids: the function fetches the records from Zoho's API
    # (120 s covers a slow page and its retries). Few instances (5) and low concurrency (4)
    # keep the calls within Zoho's API rate limits; Zoho retries what we reject.
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 120
    min_instance_count               = 0
    max_instance_count               = 5
    max_instance_request_concurrency = 4
    # Public (allUsers invoker below): Zoho cannot send a Google identity. Every call
    # is checked in code against the channel token or the workflow-rule secret.
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function["zoho_webhook"].email
    environment_variables          = merge(local.function_env, local.integration_env)

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets["zoho_webhook"]
      content {
        key        = "MYMEDIC_${upper(secret_environment_variables.value)}"
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # A revision only starts once its account may read its secrets and the build account
  # may read the source.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function_secret,
    google_storage_bucket_iam_member.build_reads_sources,
    google_project_iam_member.build,
  ]
}

resource "google_cloudfunctions2_function" "stripe_webhook" {
  #checkov:skip=CKV_GCP_124:Stripe calls this webhook from the internet; every request's signature is verified
  name        = "mymedic-stripe-webhook"
  project     = var.project_id
  location    = var.region
  description = "Stripe webhooks (Stripe-Signature verified)."
  labels      = local.labels

  build_config {
    runtime         = "python311"
    entry_point     = "stripe_webhook"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    # Verify, append, publish: sub-second. Stripe waits up to ~20 s and retries for days,
    # so 60 s and 10 instances x 10 requests are ample; bursts beyond are retried by Stripe.
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 60
    min_instance_count               = 0
    max_instance_count               = 10
    max_instance_request_concurrency = 10
    # Public (allUsers invoker below): every call's Stripe-Signature is verified.
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function["stripe_webhook"].email
    environment_variables          = local.function_env

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets["stripe_webhook"]
      content {
        key        = "MYMEDIC_${upper(secret_environment_variables.value)}"
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # A revision only starts once its account may read its secrets and the build account
  # may read the source.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function_secret,
    google_storage_bucket_iam_member.build_reads_sources,
    google_project_iam_member.build,
  ]
}

resource "google_cloudfunctions2_function" "razorpay_webhook" {
  #checkov:skip=CKV_GCP_124:Razorpay calls this webhook from the internet; every request's signature is verified
  name        = "mymedic-razorpay-webhook"
  project     = var.project_id
  location    = var.region
  description = "Razorpay webhooks (X-Razorpay-Signature verified)."
  labels      = local.labels

  build_config {
    runtime         = "python311"
    entry_point     = "razorpay_webhook"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    # As stripe_webhook: Razorpay retries failed deliveries for 24 h.
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 60
    min_instance_count               = 0
    max_instance_count               = 10
    max_instance_request_concurrency = 10
    # Public (allUsers invoker below): every call's X-Razorpay-Signature is verified.
    ingress_settings               = "ALLOW_ALL"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function["razorpay_webhook"].email
    environment_variables          = local.function_env

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets["razorpay_webhook"]
      content {
        key        = "MYMEDIC_${upper(secret_environment_variables.value)}"
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # A revision only starts once its account may read its secrets and the build account
  # may read the source.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function_secret,
    google_storage_bucket_iam_member.build_reads_sources,
    google_project_iam_member.build,
  ]
}

resource "google_cloudfunctions2_function" "jobs" {
  name        = "mymedic-jobs"
  project     = var.project_id
  location    = var.region
  description = "Scheduled jobs: POST /jobs/<name> (outbox relay, projection catch-up, Zoho, settlements, Google Ads)."
  labels      = local.labels

  build_config {
    runtime         = "python311"
    entry_point     = "jobs"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    # Called by Cloud Scheduler only. 1800 s: a Zoho backfill page polls a bulk job and
    # the catch-up replays large batches (Cloud Scheduler's attempt deadline is 30 min at
    # most). One request per instance (concurrency 1) so a long job owns its memory (1Gi:
    # batches of 5000 events and Zoho pages); 5 instances let the hourly and daily jobs
    # overlap (their minutes are staggered). Each job is idempotent.
    available_memory                 = "1Gi"
    available_cpu                    = "1"
    timeout_seconds                  = 1800
    min_instance_count               = 0
    max_instance_count               = 5
    max_instance_request_concurrency = 1
    # Internal only: Cloud Scheduler (same project) with an OIDC token, see scheduler.tf.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function["jobs"].email
    environment_variables = merge(local.function_env, local.integration_env, {
      # Where the Zoho Notifications API channel (zoho-renew-channels) calls back.
      MYMEDIC_ZOHO_NOTIFY_URL = google_cloudfunctions2_function.zoho_webhook.service_config[0].uri
    })

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets["jobs"]
      content {
        key        = "MYMEDIC_${upper(secret_environment_variables.value)}"
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # A revision only starts once its account may read its secrets and the build account
  # may read the source.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function_secret,
    google_storage_bucket_iam_member.build_reads_sources,
    google_project_iam_member.build,
  ]
}

resource "google_cloudfunctions2_function" "project_calendar" {
  name        = "mymedic-project-calendar"
  project     = var.project_id
  location    = var.region
  description = "Pub/Sub push (mymedic-calendar) -> clinic calendar read model."
  labels      = local.labels

  build_config {
    runtime         = "python311"
    entry_point     = "project_calendar"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    # One event per delivery, a Firestore transaction each. Ordered delivery holds one
    # message per ordering key (tenant/stream) in flight, so concurrent requests are
    # different streams: 8 per instance, 10 instances. 60 s is far above one event.
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 60
    min_instance_count               = 0
    max_instance_count               = 10
    max_instance_request_concurrency = 8
    # Internal only: Pub/Sub push (same project) with an OIDC token, see pubsub.tf.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function["project_calendar"].email
    environment_variables          = local.function_env

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets["project_calendar"]
      content {
        key        = "MYMEDIC_${upper(secret_environment_variables.value)}"
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # A revision only starts once its account may read its secrets and the build account
  # may read the source.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function_secret,
    google_storage_bucket_iam_member.build_reads_sources,
    google_project_iam_member.build,
  ]
}

resource "google_cloudfunctions2_function" "project_read_models" {
  name        = "mymedic-project-read-models"
  project     = var.project_id
  location    = var.region
  description = "Pub/Sub push (mymedic-read_models) -> directory, schedule, payments and follow-up read models."
  labels      = local.labels

  build_config {
    runtime         = "python311"
    entry_point     = "project_read_models"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    # As project_calendar.
    available_memory                 = "512Mi"
    available_cpu                    = "1"
    timeout_seconds                  = 60
    min_instance_count               = 0
    max_instance_count               = 10
    max_instance_request_concurrency = 8
    # Internal only: Pub/Sub push with an OIDC token, see pubsub.tf.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function["project_read_models"].email
    environment_variables          = local.function_env

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets["project_read_models"]
      content {
        key        = "MYMEDIC_${upper(secret_environment_variables.value)}"
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # A revision only starts once its account may read its secrets and the build account
  # may read the source.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function_secret,
    google_storage_bucket_iam_member.build_reads_sources,
    google_project_iam_member.build,
  ]
}

resource "google_cloudfunctions2_function" "project_warehouse" {
  name        = "mymedic-project-warehouse"
  project     = var.project_id
  location    = var.region
  description = "Pub/Sub push (mymedic-warehouse_facts) -> warehouse facts and dimensions (catch-up from the store)."
  labels      = local.labels

  build_config {
    runtime         = "python311"
    entry_point     = "project_warehouse"
    service_account = google_service_account.build.id

    source {
      storage_source {
        bucket = google_storage_bucket.sources.name
        object = google_storage_bucket_object.bundle.name
      }
    }
  }

  service_config {
    # A delivery only triggers a catch-up that follows the store in batches of 5000
    # events into one BigQuery MERGE transaction: two catch-ups at once would only abort
    # each other's transactions, so ONE instance with ONE request at a time. Deliveries
    # arriving meanwhile are refused (429) and retried by Pub/Sub with backoff; a trigger
    # that runs out of attempts is dead-lettered harmlessly (the next delivery and the
    # projection-catch-up job follow the store anyway). 540 s < the push ack deadline (600 s).
    available_memory                 = "1Gi"
    available_cpu                    = "1"
    timeout_seconds                  = 540
    min_instance_count               = 0
    max_instance_count               = 1
    max_instance_request_concurrency = 1
    # Internal only: Pub/Sub push with an OIDC token, see pubsub.tf.
    ingress_settings               = "ALLOW_INTERNAL_ONLY"
    all_traffic_on_latest_revision = true
    service_account_email          = google_service_account.function["project_warehouse"].email
    environment_variables          = local.function_env

    dynamic "secret_environment_variables" {
      for_each = local.function_secrets["project_warehouse"]
      content {
        key        = "MYMEDIC_${upper(secret_environment_variables.value)}"
        project_id = var.project_id
        secret     = google_secret_manager_secret.secret[secret_environment_variables.value].secret_id
        version    = "latest"
      }
    }
  }

  # A revision only starts once its account may read its secrets and the build account
  # may read the source.
  depends_on = [
    google_project_service.api,
    google_secret_manager_secret_iam_member.function_secret,
    google_storage_bucket_iam_member.build_reads_sources,
    google_project_iam_member.build,
  ]
}

# --- who may invoke -----------------------------------------------------------------------
locals {
  # Public webhooks: the providers cannot present a Google identity; each request is
  # authenticated in code by its signature, token or shared secret.
  public_webhooks = {
    zoho_webhook     = google_cloudfunctions2_function.zoho_webhook
    stripe_webhook   = google_cloudfunctions2_function.stripe_webhook
    razorpay_webhook = google_cloudfunctions2_function.razorpay_webhook
  }

  # The JWT-authenticated APIs: reachable from anywhere, invocable by var.api_invokers.
  api_functions = {
    commands = google_cloudfunctions2_function.commands
    read     = google_cloudfunctions2_function.read
    audit    = google_cloudfunctions2_function.audit
  }

  api_invocations = merge([
    for function, _ in local.api_functions : {
      for member in var.api_invokers : "${function}/${member}" => { function = function, member = member }
    }
  ]...)
}

resource "google_cloud_run_service_iam_member" "public_webhook" {
  #checkov:skip=CKV_GCP_102:a webhook receiver must be callable by its provider; every request is verified in code (signature, channel token or shared secret)
  for_each = local.public_webhooks

  project  = var.project_id
  location = var.region
  service  = each.value.service_config[0].service
  role     = "roles/run.invoker"
  member   = "allUsers"
}

resource "google_cloud_run_service_iam_member" "api_invoker" {
  for_each = local.api_invocations

  project  = var.project_id
  location = var.region
  service  = local.api_functions[each.value.function].service_config[0].service
  role     = "roles/run.invoker"
  member   = each.value.member
}
