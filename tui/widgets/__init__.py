"""Widgets shared by the wizard's screens: form fields, the step bar, plan and capacity views."""
