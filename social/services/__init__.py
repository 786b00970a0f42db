"""Social services: `sync`, `engagements`, `comments`, `funnels`, `scoring` (scores and advocates)."""
