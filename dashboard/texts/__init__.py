"""What the status page says, in Bahasa Indonesia and English: catalogues and formatters."""
