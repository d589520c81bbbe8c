-- Operator actions that concern no one member (starting the backfill from the console's Operations page) have no
-- customer; the member page still lists a member's own actions by customer_id.
ALTER TABLE operator_actions ALTER COLUMN customer_id DROP NOT NULL;
