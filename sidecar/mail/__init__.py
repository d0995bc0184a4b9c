"""Email: composing messages, a durable outbox, and the transports that deliver them."""
