variable "project_id" {
  description = "The Google Cloud project to deploy into, e.g. example-clinics-prod."
  type        = string

  validation {
    condition     = can(regex("^[a-z][a-z0-9-]{4,28}[a-z0-9]$", var.project_id))
    error_message = "project_id must be a Google Cloud project id: 6 to 30 lowercase letters, digits or hyphens, starting with a letter."
  }
}

variable "region" {
  description = "Region of the functions, Pub/Sub storage, Secret Manager replicas and Cloud Scheduler. For EU residency pick an EU region (europe-west3, europe-west1, ...)."
  type        = string
  default     = "europe-west3"

  validation {
    condition     = can(regex("^[a-z]+-[a-z]+[0-9]+$", var.region))
    error_message = "region must be a Google Cloud region such as europe-west3 or asia-south1."
  }
}

variable "firestore_location" {
  description = "Firestore location: a region (europe-west3) or a multi-region (eur3, nam5). Cannot change once the database exists."
  type        = string
  default     = "eur3"
}

variable "firestore_database" {
  description = "Firestore database id (MYMEDIC_FIRESTORE_DATABASE)."
  type        = string
  default     = "(default)"
}

variable "bigquery_dataset" {
  description = "BigQuery dataset of the warehouse (MYMEDIC_BIGQUERY_DATASET)."
  type        = string
  default     = "mymedic"

  validation {
    condition     = can(regex("^[A-Za-z0-9_]{1,1024}$", var.bigquery_dataset))
    error_message = "bigquery_dataset may hold only letters, digits and underscores."
  }
}

variable "bigquery_location" {
  description = "BigQuery dataset location (MYMEDIC_BIGQUERY_LOCATION): a multi-region (EU, US) or a region."
  type        = string
  default     = "EU"
}

variable "events_topic" {
  description = "Pub/Sub topic of the domain events (MYMEDIC_PUBSUB_TOPIC); the dead-letter topic is <topic>-dead-letter."
  type        = string
  default     = "mymedic-events"
}

variable "max_delivery_attempts" {
  description = "Deliveries of one message to a projection before Pub/Sub moves it to the dead-letter topic (Pub/Sub accepts 5 to 100)."
  type        = number
  default     = 10

  validation {
    condition     = var.max_delivery_attempts >= 5 && var.max_delivery_attempts <= 10
    error_message = "max_delivery_attempts must be between 5 and 10."
  }
}

variable "tenants" {
  description = "Tenant ids served by this deployment; the first is MYMEDIC_DEFAULT_TENANT_ID."
  type        = list(string)
  default     = ["example-clinics"]

  validation {
    condition     = length(var.tenants) > 0 && alltrue([for t in var.tenants : can(regex("^[a-z0-9][a-z0-9-]{1,62}$", t))])
    error_message = "tenants must be a non-empty list of lowercase ids (letters, digits, hyphens)."
  }
}

variable "default_currency" {
  description = "ISO 4217 currency of the default tenant (MYMEDIC_DEFAULT_CURRENCY)."
  type        = string
  default     = "EUR"

  validation {
    condition     = can(regex("^[A-Z]{3}$", var.default_currency))
    error_message = "default_currency must be a three-letter ISO 4217 code."
  }
}

variable "alert_email" {
  description = "Where operational alerts (dead letters, failed jobs) are e-mailed."
  type        = string
  default     = "ops@example.com"

  validation {
    condition     = can(regex("^[^@\\s]+@[^@\\s]+\\.[^@\\s]+$", var.alert_email))
    error_message = "alert_email must be an e-mail address."
  }
}

variable "time_zone" {
  description = "Time zone of the Cloud Scheduler schedules (tz database name)."
  type        = string
  default     = "Etc/UTC"
}

variable "job_schedules" {
  description = "Cron schedule of each job of the jobs function (JOBS in shared/mymedic/entrypoints.py). Give the whole map when overriding."
  type        = map(string)
  default = {
    "outbox-relay"         = "*/5 * * * *"
    "projection-catch-up"  = "*/10 * * * *"
    "settlement-detail"    = "30 6 * * *"
    "zoho-delta-sync"      = "7 * * * *"
    "zoho-backfill"        = "0 3 * * 0"
    "zoho-renew-channels"  = "17 2 * * *"
    "zoho-books-sync"      = "37 * * * *"
    "zoho-formula-refresh" = "45 1 * * *"
    "google-ads-sync"      = "0 5 * * *"
    "alerts"               = "0 7 * * *"
    "snapshots"            = "30 7 * * *"
    "refresh-reports"      = "*/15 * * * *"
  }

  validation {
    condition = (
      length(var.job_schedules) == 12 &&
      alltrue([for name in ["outbox-relay", "projection-catch-up", "settlement-detail", "zoho-delta-sync", "zoho-backfill", "zoho-renew-channels", "zoho-books-sync", "zoho-formula-refresh", "google-ads-sync", "alerts", "snapshots", "refresh-reports"] : contains(keys(var.job_schedules), name)])
    )
    error_message = "job_schedules must give a schedule for each of the twelve jobs, and only those."
  }
}

variable "paused_jobs" {
  description = "Jobs created paused (run by hand with `gcloud scheduler jobs run`). zoho-backfill is a one-off per module at onboarding: the hourly delta sync keeps up afterwards."
  type        = list(string)
  default     = ["zoho-backfill"]
}

variable "function_source_zip" {
  description = "The function bundle built by scripts/build_bundle.py (relative to this directory)."
  type        = string
  default     = "../build/function-source.zip"
}

variable "zoho_tenant_id" {
  description = "The tenant the Zoho CRM org feeds (MYMEDIC_ZOHO_TENANT_ID); empty: Zoho is not used."
  type        = string
  default     = ""
}

variable "zoho_data_centre" {
  description = "Zoho data centre of the org (MYMEDIC_ZOHO_DATA_CENTRE): in, eu, com, ..."
  type        = string
  default     = "eu"

  validation {
    condition     = contains(["com", "eu", "in", "com.au", "jp", "ca", "com.cn"], var.zoho_data_centre)
    error_message = "zoho_data_centre must be one of com, eu, in, com.au, jp, ca, com.cn."
  }
}

variable "zoho_client_id" {
  description = "Zoho OAuth client id (not a secret; MYMEDIC_ZOHO_CLIENT_ID)."
  type        = string
  default     = ""
}

variable "google_ads_client_id" {
  description = "Google Ads OAuth client id (not a secret; MYMEDIC_GOOGLE_ADS_CLIENT_ID)."
  type        = string
  default     = ""
}

variable "google_ads_login_customer_id" {
  description = "Google Ads manager account to log in through, 10 digits (MYMEDIC_GOOGLE_ADS_LOGIN_CUSTOMER_ID)."
  type        = string
  default     = ""
}

variable "google_ads_customers" {
  description = "Each tenant's Google Ads accounts (MYMEDIC_GOOGLE_ADS_CUSTOMERS)."
  type        = map(list(string))
  default     = {}
}

variable "jwt_issuer" {
  description = "Expected iss of the callers' JWTs (MYMEDIC_JWT_ISSUER)."
  type        = string
  default     = "mymedic"
}

variable "jwt_audience" {
  description = "Expected aud of the callers' JWTs (MYMEDIC_JWT_AUDIENCE)."
  type        = string
  default     = "mymedic-api"
}

variable "labels" {
  description = "Extra labels on every labelled resource."
  type        = map(string)
  default     = {}
}

variable "api_invokers" {
  description = "IAM members allowed to invoke the commands, read and audit functions (e.g. serviceAccount:portal@example-clinics-prod.iam.gserviceaccount.com, an API Gateway's account). They send a Google ID token in X-Serverless-Authorization and the user's JWT in Authorization."
  type        = list(string)
  default     = []

  validation {
    condition     = alltrue([for m in var.api_invokers : !contains(["allUsers", "allAuthenticatedUsers"], m)])
    error_message = "api_invokers must name identities, not allUsers or allAuthenticatedUsers: the APIs are not public."
  }
}
