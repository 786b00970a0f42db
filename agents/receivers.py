"""The agents' event feed listens to the apps below (imported by madansara's receivers autodiscovery)."""

from agents import events

events.connect()
