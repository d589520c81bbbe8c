-- Founder sign-in sessions (express-session via connect-pg-simple): they survive restarts and are shared by every
-- API process. The cookie carries only the signed session id; logout deletes the row, expired rows are pruned.
CREATE TABLE admin_sessions (
  sid    varchar PRIMARY KEY,
  sess   json NOT NULL,
  expire timestamp(6) NOT NULL
);
CREATE INDEX admin_sessions_expire ON admin_sessions (expire);
