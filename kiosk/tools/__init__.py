"""What people run around the kiosk rather than in it: the ``kiosk`` command (``cli/``), the
headless demo, the touch robot that presses the real screens, the scripted citizen journeys and
the help-clip generator."""
