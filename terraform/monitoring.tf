# Operational alerts, e-mailed to var.alert_email: poison messages reaching the
# dead-letter hold, and jobs failing.

resource "google_monitoring_notification_channel" "email" {
  project      = var.project_id
  display_name = "MyMedic operations"
  type         = "email"

  labels = {
    email_address = var.alert_email
  }

  depends_on = [google_project_service.api]
}

resource "google_monitoring_alert_policy" "dead_letters" {
  project      = var.project_id
  display_name = "MyMedic: events dead-lettered"
  combiner     = "OR"

  conditions {
    display_name = "messages waiting in ${google_pubsub_subscription.dead_letter_hold.name}"

    condition_threshold {
      filter          = "resource.type = \"pubsub_subscription\" AND resource.labels.subscription_id = \"${google_pubsub_subscription.dead_letter_hold.name}\" AND metric.type = \"pubsub.googleapis.com/subscription/num_undelivered_messages\""
      comparison      = "COMPARISON_GT"
      threshold_value = 0
      duration        = "300s"

      aggregations {
        alignment_period   = "300s"
        per_series_aligner = "ALIGN_MAX"
      }
    }
  }

  documentation {
    content   = "A projection gave up on an event after its delivery attempts. Inspect with `gcloud pubsub subscriptions pull ${google_pubsub_subscription.dead_letter_hold.name}`, fix, then republish or seek."
    mime_type = "text/markdown"
  }

  notification_channels = [google_monitoring_notification_channel.email.id]
}

resource "google_monitoring_alert_policy" "jobs_failing" {
  project      = var.project_id
  display_name = "MyMedic: scheduled jobs failing"
  combiner     = "OR"

  conditions {
    display_name = "5xx answers of ${google_cloudfunctions2_function.jobs.name}"

    condition_threshold {
      filter          = "resource.type = \"cloud_run_revision\" AND resource.labels.service_name = \"${google_cloudfunctions2_function.jobs.name}\" AND metric.type = \"run.googleapis.com/request_count\" AND metric.labels.response_code_class = \"5xx\""
      comparison      = "COMPARISON_GT"
      threshold_value = 2
      duration        = "0s"

      aggregations {
        alignment_period   = "3600s"
        per_series_aligner = "ALIGN_SUM"
      }
    }
  }

  notification_channels = [google_monitoring_notification_channel.email.id]
}
