"""Device drivers: chip ID card, QR, camera, printer. Kivy-free; backends picked by config."""
