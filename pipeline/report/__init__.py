"""What an issue did, counted from what the send and the readers left behind.

issue_report.py  the one query path: an issue's report, the last issues' headlines
                 (`newsletter report`, `newsletter status`, the desk's past issues)
deliveries.py    the ledger, delivery events (webhooks, bounce mailbox), unsubscribes
clicks.py        clicks per tracked link of each variant, and opens
choices.py       which variant a reader got, from their language and topics
figures.py       the figures as plain data, and their JSON
words.py         the figures' names in German and English, number formats
"""
