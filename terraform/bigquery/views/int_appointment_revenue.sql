-- THE definition of an appointment's revenue, used by every report (in integer minor
-- units of the appointment's currency; one row per appointment that has any money):
--   prepaid_minor      deposits and payments taken on the appointment itself (portal,
--                      front desk), net of their refunds;
--   invoiced_minor     what its invoices bill (the balance after what was prepaid);
--   credited_minor     the credit notes against its invoices: billed, no longer owed;
--   billed_minor       prepaid_minor + invoiced_minor: the appointment's charge, before
--                      credit notes (billed_minor - credited_minor is what it earns);
--   paid_minor         every payment of the appointment and its invoices, net of every
--                      refund and chargeback to date (a refund made after month end
--                      lowers the month of the service, not the month of the refund);
--   outstanding_minor  invoiced - credited - paid against the invoices net of their
--                      refunds (never < 0): what payers still owe. A refund with no
--                      credit note is owed again (the payer got the money back, the
--                      invoice still bills it); a refund the clinic does not claim back
--                      carries a credit note (issue_credit_note, a Zoho Books credit
--                      note, or the tenant's billing policy for gateway refunds).
-- Revenue belongs to the appointment: reports place it on the appointment's own
-- calendar day (fct_appointment.start_date), so a late payment or refund restates that
-- month. payer_type is that of the appointment's latest invoice (null: no invoice).
-- An appointment with money in several currencies has a row per currency. The sums
-- are kept per appointment by the projection (fct_appointment_revenue), on every
-- payment, refund, credit note and invoice, so that no report aggregates all of them.
with revenue as (
    select * replace (coalesce(credited_minor, 0) as credited_minor)
    from `${project}.${dataset}.fct_appointment_revenue`
),

final as (
    select
        tenant_id,
        appointment_id,
        currency,
        payer_type,
        prepaid_minor,
        invoiced_minor,
        credited_minor,
        prepaid_minor + invoiced_minor as billed_minor,
        paid_minor,
        greatest(invoiced_minor - credited_minor - paid_on_invoices_minor, 0)
            as outstanding_minor
    from revenue
)

select * from final
