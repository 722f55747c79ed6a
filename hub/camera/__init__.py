"""Camera governance at the hub: who answers at each place (its audience), the deployer's
approval before the first frame, and the append-only log of every camera switched on or off.

A camera may be on only where the effective audience is public (the EU AI Act, Art. 5(1)(f),
forbids emotion recognition at workplaces and in education) and an active approval covers
the place. The hub refuses to turn one on otherwise, and turns off, with a logged reason, any
camera that is on where that no longer holds, including one a kiosk enabled in its own file.
"""
