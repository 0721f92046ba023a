"""golden_model package."""
