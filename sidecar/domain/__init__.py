"""The mentoring domain: typed records and the errors repositories raise."""
