"""Certificates: a learner's PDFs, an organisation's list and revoking, the public
verification page."""
