"""rtl/aes package."""
