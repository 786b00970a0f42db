"""Outbound webhooks: integrators' endpoints, signed (Standard Webhooks) and retried deliveries."""
