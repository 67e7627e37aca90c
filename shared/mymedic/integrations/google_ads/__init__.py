"""Google Ads (read-only): each ad account's daily cost by keyword, ad group and campaign,
and its paid clicks (GCLIDs), synced into per-day streams of the event store."""
