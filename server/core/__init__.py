"""What every domain shares: the database and hand-written SQL, who is asking and what they may see and do
(scope, permissions), the audit log, problems, pagination, ids, the clock and canonical JSON."""
