"""Webhooks to sales channels through a transactional outbox."""
