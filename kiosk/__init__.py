"""The kiosk application: Kivy front end, citizen session, central client, outbox, CLI."""
