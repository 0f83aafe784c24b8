"""The touchscreen: the Kivy app, its screens and widgets, theme, texts (i18n), the Vietnamese
input method, speech and display set-up. The only part of ``kiosk`` that imports Kivy, together
with the tools that drive it (``kiosk.tools``); the runtime below it (``kiosk.services``,
``kiosk.session``, the outbox…) never imports this package."""
