"""The bounce mailbox of SMTP senders: read it, classify each message, apply the verdict.

mailbox.py   reads IMAP or POP3; moves (IMAP) or deletes (POP3) a message once stored
classify.py  bytes -> Verdict (RFC 3464 DSN, RFC 5965 ARF, RFC 3834 auto-reply, VERP
             and returned headers, flufl.bounce's detectors, German-language servers)
apply.py     Verdict -> suppression, soft-bounce count, delivery events, unsubscribe
records.py   the messages in the database: claims, the mailbox's health, pruning
forward.py   a reader's reply to forward_replies_to, through provider.smtp
fetch.py     one read: claim, classify, apply, file each new message
"""
