"""Spiders: a config-driven marketplace spider and a browser-rendered live-commerce spider."""
