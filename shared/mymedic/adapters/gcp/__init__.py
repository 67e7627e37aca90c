"""The gcp backend: Firestore, Pub/Sub and BigQuery over the official clients."""
