"""daam (دعم): school social-support records into one trusted DuckDB warehouse."""
