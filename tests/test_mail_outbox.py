"""quiz.mail: messages go out after the commit that queued them, never after a rollback."""

from __future__ import annotations

from quiz.extensions import db
from quiz.mail import read_outbox, send_mail


def test_mail_is_written_after_commit_only(app):
    with app.app_context():
        send_mail("ann@example.org", "Welcome", "Hello Ann")
        assert read_outbox() == []          # queued, not sent
        db.session.rollback()
        db.session.commit()
        assert read_outbox() == []          # the rollback dropped it
        send_mail("bob@example.org", "Your invitation", "Hello Bob\nline two")
        db.session.commit()
        [message] = read_outbox()
        assert message["To"] == "bob@example.org"
        assert message["Subject"] == "Your invitation"
        assert message.get_content().strip() == "Hello Bob\nline two"
