"""Premium notices (quittances), payments and the unpaid-premium procedure."""
