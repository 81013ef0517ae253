"""Regulatory compliance: complaints register (ACPR), advice duty (DDA), RGPD."""
