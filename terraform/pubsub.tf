# Domain events: the outbox relay and after-commit dispatch publish each event to the
# events topic (ordering key tenant/stream). Each projection has ONE push subscription,
# mymedic-<projection>, delivering to its function in order, with retries and a
# dead-letter topic; the dead letters are held by a pull subscription for inspection and
# replay (`gcloud pubsub subscriptions pull`, then republish, or seek the source
# subscription: the topic keeps 7 days of messages).

resource "google_pubsub_topic" "events" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption; event payloads carry no personal data, but a message is the whole envelope, whose personal part (kept apart from the payload) is not encrypted by MyMedic yet: per-patient encryption is still to come
  name    = var.events_topic
  project = var.project_id
  labels  = local.labels

  # Keep a week of messages on the topic, so a subscription can be sought back and a
  # projection re-fed after a bad deploy.
  message_retention_duration = "604800s"

  # Data residency: messages are stored in the deployment's region only.
  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }

  depends_on = [google_project_service.api]
}

resource "google_pubsub_topic" "dead_letter" {
  #checkov:skip=CKV_GCP_83:Google-managed encryption, as the events topic
  name    = "${var.events_topic}-dead-letter"
  project = var.project_id
  labels  = merge(local.labels, { role = "dead-letter" })

  message_retention_duration = "604800s"

  message_storage_policy {
    allowed_persistence_regions = [var.region]
  }

  depends_on = [google_project_service.api]
}

# Holds the poison messages (no push, no dead-letter policy of its own: nothing is
# delivered from here automatically). Acknowledged messages are retained too, so a
# replay can seek back. Never expires.
resource "google_pubsub_subscription" "dead_letter_hold" {
  name    = "${var.events_topic}-dead-letter-hold"
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.id
  labels  = merge(local.labels, { role = "dead-letter-hold" })

  ack_deadline_seconds       = 60
  message_retention_duration = "2678400s" # 31 days, Pub/Sub's maximum
  retain_acked_messages      = true

  expiration_policy {
    ttl = ""
  }
}

locals {
  # projection (the name entrypoints.project() takes) -> its function.
  projections = {
    calendar        = google_cloudfunctions2_function.project_calendar
    read_models     = google_cloudfunctions2_function.project_read_models
    warehouse_facts = google_cloudfunctions2_function.project_warehouse
  }

  # Per projection: how long Pub/Sub waits for an answer (the function's timeout fits in
  # it) and the redelivery backoff. The warehouse waits longer between attempts: a busy
  # catch-up refuses deliveries (one request at a time) and picks their events up anyway.
  projection_delivery = {
    calendar        = { ack_deadline_seconds = 60, minimum_backoff = "10s", maximum_backoff = "600s" }
    read_models     = { ack_deadline_seconds = 60, minimum_backoff = "10s", maximum_backoff = "600s" }
    warehouse_facts = { ack_deadline_seconds = 600, minimum_backoff = "60s", maximum_backoff = "600s" }
  }
}

resource "google_pubsub_subscription" "projection" {
  for_each = local.projections

  name    = "mymedic-${each.key}"
  project = var.project_id
  topic   = google_pubsub_topic.events.id
  labels  = merge(local.labels, { role = "projection", projection = replace(each.key, "_", "-") })

  # Events of one stream (ordering key tenant/stream) arrive in order; a failed event
  # holds back the rest of its stream until it succeeds or is dead-lettered.
  enable_message_ordering    = true
  ack_deadline_seconds       = local.projection_delivery[each.key].ack_deadline_seconds
  message_retention_duration = "604800s"

  push_config {
    push_endpoint = each.value.service_config[0].uri

    oidc_token {
      service_account_email = google_service_account.pusher.email
      audience              = each.value.service_config[0].uri
    }
  }

  retry_policy {
    minimum_backoff = local.projection_delivery[each.key].minimum_backoff
    maximum_backoff = local.projection_delivery[each.key].maximum_backoff
  }

  dead_letter_policy {
    dead_letter_topic     = google_pubsub_topic.dead_letter.id
    max_delivery_attempts = var.max_delivery_attempts
  }

  expiration_policy {
    ttl = ""
  }

  depends_on = [
    google_cloud_run_service_iam_member.pusher_invokes_projection,
    google_pubsub_topic_iam_member.dead_letter_publisher,
  ]
}

# The pusher account may invoke the three projection functions, and nothing else.
resource "google_cloud_run_service_iam_member" "pusher_invokes_projection" {
  for_each = local.projections

  project  = var.project_id
  location = var.region
  service  = each.value.service_config[0].service
  role     = "roles/run.invoker"
  member   = "serviceAccount:${google_service_account.pusher.email}"
}

# Dead-lettering: the Pub/Sub service agent publishes to the dead-letter topic and
# acknowledges on each source subscription what it forwarded there.
resource "google_pubsub_topic_iam_member" "dead_letter_publisher" {
  project = var.project_id
  topic   = google_pubsub_topic.dead_letter.name
  role    = "roles/pubsub.publisher"
  member  = local.pubsub_service_agent
}

resource "google_pubsub_subscription_iam_member" "dead_letter_subscriber" {
  for_each = local.projections

  project      = var.project_id
  subscription = google_pubsub_subscription.projection[each.key].name
  role         = "roles/pubsub.subscriber"
  member       = local.pubsub_service_agent
}
