"""The admin console (/admin): static pages over the public API."""
