output "function_urls" {
  description = "Function name -> its HTTPS URL (webhook URLs go to Stripe, Razorpay and Zoho)."
  value = {
    commands            = google_cloudfunctions2_function.commands.service_config[0].uri
    read                = google_cloudfunctions2_function.read.service_config[0].uri
    audit               = google_cloudfunctions2_function.audit.service_config[0].uri
    jobs                = google_cloudfunctions2_function.jobs.service_config[0].uri
    zoho_webhook        = google_cloudfunctions2_function.zoho_webhook.service_config[0].uri
    stripe_webhook      = google_cloudfunctions2_function.stripe_webhook.service_config[0].uri
    razorpay_webhook    = google_cloudfunctions2_function.razorpay_webhook.service_config[0].uri
    project_calendar    = google_cloudfunctions2_function.project_calendar.service_config[0].uri
    project_read_models = google_cloudfunctions2_function.project_read_models.service_config[0].uri
    project_warehouse   = google_cloudfunctions2_function.project_warehouse.service_config[0].uri
  }
}

output "events_topic" {
  description = "The events topic (MYMEDIC_PUBSUB_TOPIC) and its dead-letter topic."
  value = {
    events           = google_pubsub_topic.events.id
    dead_letter      = google_pubsub_topic.dead_letter.id
    dead_letter_hold = google_pubsub_subscription.dead_letter_hold.id
  }
}

output "projection_subscriptions" {
  description = "Projection -> its push subscription."
  value       = { for name, sub in google_pubsub_subscription.projection : name => sub.id }
}

output "bigquery_dataset" {
  description = "The warehouse dataset (project:dataset)."
  value       = "${google_bigquery_dataset.warehouse.project}:${google_bigquery_dataset.warehouse.dataset_id}"
}

output "firestore_database" {
  description = "The Firestore database (MYMEDIC_FIRESTORE_DATABASE)."
  value       = google_firestore_database.main.name
}

output "service_accounts" {
  description = "Function -> its runtime service account, and the caller accounts."
  value = merge(
    { for name, account in google_service_account.function : name => account.email },
    {
      pubsub_pusher = google_service_account.pusher.email
      scheduler     = google_service_account.scheduler.email
      build         = google_service_account.build.email
    },
  )
}

output "secret_ids" {
  description = "Setting -> its Secret Manager secret (add versions by hand)."
  value       = { for field, secret in google_secret_manager_secret.secret : field => secret.secret_id }
}
