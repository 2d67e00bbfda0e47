"""Members and cohorts of an organisation: the member list, moving people between
cohorts, roles; site admins create organisations and their first manager."""
