"""Bringing staff in: invitations by e-mail list or CSV (preview, then all or nothing),
join codes, and the invitee's side (accepting, setting a password, joining)."""
