-- The newest invoice's hosted URL, for "send me my receipt" support replies.
ALTER TABLE memberships ADD COLUMN latest_invoice_url text;
