"""One router per resource: CRM webhooks, generic events, handoffs and their messages, health."""
