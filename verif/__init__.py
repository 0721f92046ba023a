"""verif package."""
