"""Outreach services: campaigns, planning, dispatch, content, feedback, tracking and direct sends."""
