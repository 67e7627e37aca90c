"""Rendering warehouse report rows for people and files."""
