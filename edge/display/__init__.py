"""The kiosk's touch display: a page served on loopback, shown full-screen by Chromium in
kiosk mode. It shows the question in the location's languages, takes presses on the screen,
and after a press asks the follow-up. It is a window on the kiosk, never in its way: the
buttons record whatever the page or the browser does.
"""
