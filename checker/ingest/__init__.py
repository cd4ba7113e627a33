"""Importing a territory's bundle (territoire.yaml, logements, attributions, caleol)."""
