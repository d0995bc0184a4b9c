"""After the call: what the pair agreed and who does what next, sent to both exactly once."""
