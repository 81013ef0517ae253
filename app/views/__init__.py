"""Screens: FAB ModelViews and custom views."""
