"""AES pipeline verification: cocotb testbenches and their helpers."""
