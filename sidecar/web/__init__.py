"""The HTML side of the service: pages, sign-in, security headers, health checks."""
