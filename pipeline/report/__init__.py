"""What an issue did: counts from the ledger, the services' events, the bounce mailbox,
unsubscribes and clicks (`issue_report`, `headlines`)."""
