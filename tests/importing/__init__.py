"""Tests of the importer (kg.importing)."""
