"""Question exchange with other tools: Moodle XML and GIFT, both ways.

Readers turn a file into ExchangeQuestions (quiz/exchange/model.py) and writers turn
ExchangeQuestions into a file, with no database access; quiz/exchange/bank.py maps them to
and from the bank (drafts through quiz.bank.revisions.create_revision, all or nothing).
"""
